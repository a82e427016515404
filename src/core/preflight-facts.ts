/**
 * What preflight reads before it judges: facts gathered from blue, green, the pointer and this machine.
 * The adapters fill them in; the rules in preflight-*.ts read them without I/O.
 */
import type { Blocker } from './blockers.js';
import type { Mode } from './phases.js';
import type { PrivilegePlan } from './privileges.js';

export type FindingStatus = 'ok' | 'warn' | 'block';

export interface Finding {
  readonly check: string;
  readonly status: FindingStatus;
  readonly message: string;
  readonly fix?: string;
}

export interface ServerFacts {
  readonly error?: string;
  readonly version?: string;
  readonly major?: number;
  readonly superuser?: boolean;
  readonly systemId?: string;
  readonly user?: string;
  readonly privileges?: Readonly<
    Partial<Record<'replication' | 'createdb' | 'createrole' | 'signalBackend' | 'createSubscription', boolean>>
  >;
}

/** What each side's server is set to for replication and durability, read alike on both. */
export interface ReplicationFacts {
  readonly loginRoles?: Readonly<Record<string, { readonly canLogin: boolean; readonly hasPassword?: boolean }>>;
  readonly walLevel?: string;
  readonly freeReplicationSlots?: number;
  readonly freeWalSenders?: number;
  /** `-1` (unlimited) or a size such as `10GB`. */
  readonly maxSlotWalKeepSize?: string;
  /** Which of fsync, synchronous_commit and full_page_writes are off. */
  readonly notDurable?: ReadonlyArray<string>;
}

export interface BlueFacts extends ServerFacts, ReplicationFacts {
  readonly tablesWithoutKey?: ReadonlyArray<string>;
  readonly unloggedTables?: ReadonlyArray<string>;
  /** The application's own publications on blue (ours left out): neither clone copies them. */
  readonly publications?: ReadonlyArray<string>;
  /** Rows in each unlogged table now, by its display name: whether a flip will copy it or refuse. */
  readonly unloggedRows?: Readonly<Record<string, number>>;
  readonly largeObjects?: number;
  readonly longTransactions?: ReadonlyArray<{ readonly pid: number; readonly seconds: number; readonly who: string }>;
  readonly sizeBytes?: number;
  readonly extensions?: ReadonlyArray<string>;
  /** Installed extensions' versions, by name. */
  readonly extensionVersions?: Readonly<Record<string, string>>;
  /** The default collation's provider and its library version as the server sees it now. */
  readonly collation?: { readonly provider: string; readonly version: string | null };
  /** The other collations the application's columns and indexes use, with their library versions. */
  readonly collationsInUse?: ReadonlyArray<CollationVersion>;
}

export interface GreenFacts extends ServerFacts, ReplicationFacts {
  readonly databaseExists?: boolean;
  readonly userTables?: number;
  readonly availableExtensions?: ReadonlyArray<string>;
  /** What green's server offers of each extension (its default version). */
  readonly availableVersions?: Readonly<Record<string, string>>;
  readonly collation?: { readonly provider: string; readonly version: string | null };
  /** Green's library versions of the collations blue uses (those its databases already have). */
  readonly collationVersions?: ReadonlyArray<CollationVersion>;
}

export interface PreflightFacts {
  readonly mode: Mode;
  readonly database: string;
  readonly blue: BlueFacts;
  readonly green: GreenFacts;
  /** The previous cutover ended with blue serving and green's database is ours: clone may re-create it. */
  readonly greenResettable: boolean;
  /** Why green, though filled by us, is not re-created: it holds writes a rollback gave up (export them first). */
  readonly greenHoldsGivenUp?: string;
  /** A cutover under way (its phase and since when): preflight's findings are for starting one, not for it. */
  readonly cutoverUnderWay?: { readonly phase: string; readonly id: string };
  readonly tools: { readonly pgDump?: string; readonly error?: string };
  readonly pointer: {
    readonly error?: string;
    readonly pointsAt?: 'blue' | 'green' | 'elsewhere';
    readonly description: string;
    readonly warnings?: ReadonlyArray<string>;
    /** Each pooler instance's pool mode for the database, and the database's name there. */
    readonly poolModes?: ReadonlyArray<{ readonly instance: string; readonly mode: string; readonly clients: number }>;
    readonly database?: string;
  };
  /** Sessions on blue that would hold a switchover's PAUSE now, or why they could not be read. */
  readonly pauseBlockers?: { readonly sessions?: ReadonlyArray<Blocker>; readonly minAgeMs: number; readonly error?: string };
  readonly dumpDirFreeBytes?: number;
  readonly dumpDir: string;
  /** clone.backup "none": rows stream to green, only the schema touches the dump folder. */
  readonly streaming?: boolean;
  /** Why the dump folder cannot be written, when it cannot. */
  readonly dumpDirProblem?: string;
  readonly migrations: { readonly error?: string; readonly pending?: number };
  /** switchover.unloggedCopyMaxRows: the largest unlogged table a flip copies inside its pause. */
  readonly unloggedCopyMaxRows?: number;
  /**
   * What the configured roles may do and the strategy for each capability (the privilege probe), or why
   * it could not be read.
   */
  readonly privileges?: { readonly plan?: PrivilegePlan; readonly error?: string };
  /**
   * A side's peer address (the one the other database replicates from) when it differs from the
   * controller's: why it could not be reached, or '' when it could.
   */
  readonly peers?: Readonly<Partial<Record<'blue' | 'green', string>>>;
}

export interface CollationVersion {
  /** `schema.name`, quoted where needed. */
  readonly name: string;
  readonly provider: string;
  /** pg_collation_actual_version: the library's version now (null for C and POSIX, which never change). */
  readonly version: string | null;
}
