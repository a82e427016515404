/**
 * Preflight: facts gathered from blue, green, the pointer and this machine go in; findings come out,
 * each `ok | warn | block` with the fix. Pure, so every rule is unit-tested without a database.
 */
import { type Blocker, describeBlocker, poolModeRefusals } from './blockers.js';
import type { Mode } from './phases.js';
import { type PrivilegePlan, privilegeFindings } from './privileges.js';

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

/** What each feature needs beyond superuser, per side: the list preflight names when the role lacks it. */
function missingPrivileges(side: 'blue' | 'green', facts: ServerFacts): string[] {
  const p = facts.privileges ?? {};
  const missing = [
    "SUPERUSER: event triggers (the freeze's DDL guard and the DDL log) and the write guard's bypass" +
      (side === 'blue' ? ', reading role passwords (pg_authid) to copy roles' : ''),
  ];
  if (!p.replication)
    missing.push(`REPLICATION: logical replication slots${side === 'blue' ? " (the clone's snapshot)" : ' (the rollback direction)'}`);
  if (!p.signalBackend) missing.push('pg_signal_backend: ending open transactions when writes freeze');
  if (!p.createSubscription && (facts.major ?? 0) >= 16) missing.push('pg_create_subscription: subscribing to the other side');
  if (side === 'green' && !p.createdb) missing.push("CREATEDB: creating green's database");
  if (side === 'green' && !p.createrole) missing.push('CREATEROLE: copying roles to green');
  return missing;
}

export interface BlueFacts extends ServerFacts {
  readonly loginRoles?: Readonly<Record<string, { readonly canLogin: boolean; readonly hasPassword?: boolean }>>;
  readonly walLevel?: string;
  readonly freeReplicationSlots?: number;
  readonly freeWalSenders?: number;
  /** `-1` (unlimited) or a size such as `10GB`. */
  readonly maxSlotWalKeepSize?: string;
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

export interface GreenFacts extends ServerFacts {
  readonly loginRoles?: Readonly<Record<string, { readonly canLogin: boolean; readonly hasPassword?: boolean }>>;
  readonly walLevel?: string;
  readonly freeReplicationSlots?: number;
  readonly freeWalSenders?: number;
  readonly maxSlotWalKeepSize?: string;
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
  /** What the configured roles may do and the strategy for each capability (the privilege probe), or why it could not be read. */
  readonly privileges?: { readonly plan?: PrivilegePlan; readonly error?: string };
  /** A side's peer address (the one the other database replicates from) when it differs from the controller's: why it could not be reached, or '' when it could. */
  readonly peers?: Readonly<Partial<Record<'blue' | 'green', string>>>;
}

const LONG_TRANSACTION_SECONDS = 300;

/** What happens to each unlogged table, at its size now: copied at every flip, or the flip refuses before its pause. */
function unloggedFinding(f: PreflightFacts): Finding {
  const names = f.blue.unloggedTables ?? [];
  const rows = f.blue.unloggedRows ?? {};
  const max = f.unloggedCopyMaxRows ?? 10_000;
  const sized = (t: string) => (rows[t] === undefined ? t : `${t} (${rows[t].toLocaleString('en-US')} row${rows[t] === 1 ? '' : 's'})`);
  const over = names.filter((t) => (rows[t] ?? 0) > max);
  const message = `unlogged tables: ${names.map(sized).join(', ')}`;
  if (f.mode === 'freeze') {
    return {
      check: 'unlogged-tables',
      status: 'warn',
      message,
      fix: "The clone copies their rows, blue frozen, so the copy is exact. A rollback gives up green's writes to them with its other writes: it refuses without --accept-data-loss, naming them.",
    };
  }
  const limit = `switchover.unloggedCopyMaxRows (${max.toLocaleString('en-US')})`;
  const copied = `PostgreSQL cannot publish an unlogged table, so replication does not carry their writes: the clone copies their rows, and every switchover and rollback copies their current rows from the side traffic leaves to the side it goes to inside the pause, after the freeze (exact; the copy lengthens the pause), for each table of at most ${limit} rows.`;
  const refused = over.length
    ? ` At their size now, ${over.join(', ')} ${over.length > 1 ? 'are' : 'is'} over it: each flip will refuse before the pause, naming ${over.length > 1 ? 'them' : 'it'}, unless --accept-data-loss (recorded as given up); raise the bound, empty ${over.length > 1 ? 'them' : 'it'}, or ALTER TABLE … SET LOGGED before the clone.`
    : ' A table over it when a flip runs makes the flip refuse before the pause, naming it, unless --accept-data-loss (recorded as given up).';
  return {
    check: 'unlogged-tables',
    status: 'warn',
    message,
    fix: `${copied}${refused} Between flips the standby side's copy is not kept current: compare reports it as differing.`,
  };
}
const GB = 1024 ** 3;

function fmtBytes(n: number): string {
  return n >= GB ? `${(n / GB).toFixed(1)} GB` : `${Math.round(n / 1024 ** 2)} MB`;
}

function server(side: 'blue' | 'green', facts: ServerFacts, probed = false): Finding[] {
  if (facts.error)
    return [
      {
        check: `${side}-reachable`,
        status: 'block',
        message: `${side}: ${facts.error}`,
        fix: 'Fix the connection string or start the server.',
      },
    ];
  const out: Finding[] = [{ check: `${side}-reachable`, status: 'ok', message: `${side}: PostgreSQL ${facts.version}` }];
  // With the probe's plan, each capability is its own finding (strategy, cost or block): no blanket verdict.
  if (facts.superuser === false && !probed) {
    out.push({
      check: `${side}-privileges`,
      status: 'block',
      message: `${side}: the configured user${facts.user ? ` "${facts.user}"` : ''} lacks: ${missingPrivileges(side, facts).join('; ')}`,
      fix: 'Connect as a superuser (on a managed service, its admin role where it may create event triggers); the README lists what each command needs.',
    });
  }
  return out;
}

/** Green filled and not ours to re-create: why, and what to do. */
function greenNotEmpty(f: PreflightFacts, tables: number | undefined): Finding {
  const fix = f.greenHoldsGivenUp ?? 'Green must be empty: point green at an empty or missing database.';
  return { check: 'green-empty', status: 'block', message: `green's database "${f.database}" is not empty (${tables} tables)`, fix };
}

/** Green's settings allow replication back; whether the roles' privileges do is the plan's to say. */
function replicatesBack(f: PreflightFacts): string {
  return f.privileges?.plan?.rollbackLossless === false
    ? "green's wal_level, slots and WAL senders would allow replication back; the roles' privileges do not (see rollback-lossless)"
    : 'green can replicate back to blue for a rollback';
}

/** Each side's server findings, blue first. */
function bothServers(f: PreflightFacts, probed: boolean): Finding[] {
  return [...server('blue', f.blue, probed), ...server('green', f.green, probed)];
}

/** A cutover under way: its own state (green filled, the pointer on green) is not a problem to fix. */
function cutoverFinding(f: PreflightFacts): Finding[] {
  // The privilege probe could not read (a passwords file with the wrong mode, say): said as itself, not
  // as the superuser checks it would otherwise fall back to.
  const probe: Finding[] = f.privileges?.error
    ? [
        {
          check: 'privileges',
          status: 'block',
          message: `what the configured roles may do could not be read: ${f.privileges.error}`,
          fix: 'Fix what it names, then run preflight again.',
        },
      ]
    : [];
  const c = f.cutoverUnderWay;
  if (!c) return probe;
  return [
    ...probe,
    {
      check: 'cutover',
      status: 'warn',
      message:
        `cutover ${c.id} is under way (phase ${c.phase}): these checks are for starting one, ` +
        "so green's data and the pointer on green read as problems here",
      fix: '`bluegreen status` is the view of this cutover; preflight matters again once it is finalized or aborted.',
    },
  ];
}

export function preflightFindings(f: PreflightFacts): Finding[] {
  const plan = f.privileges?.plan;
  const out: Finding[] = [...cutoverFinding(f), ...bothServers(f, !!plan), ...(plan ? privilegeFindings(plan) : [])];
  const b = f.blue;
  const g = f.green;
  if (!b.error && !g.error) {
    if (b.systemId && b.systemId === g.systemId && g.databaseExists) {
      out.push({
        check: 'distinct',
        status: 'block',
        message: 'blue and green are the same server',
        fix: 'Point green at a different PostgreSQL server.',
      });
    }
    if (b.major !== undefined && g.major !== undefined && g.major < b.major) {
      out.push({
        check: 'versions',
        status: 'block',
        message: `green runs PostgreSQL ${g.major}, older than blue's ${b.major}`,
        fix: 'Green must run the same major version as blue or a newer one.',
      });
    } else if (b.major !== undefined && g.major !== undefined) {
      out.push({
        check: 'versions',
        status: 'ok',
        message: g.major > b.major ? `major upgrade ${b.major} → ${g.major}` : `same major version (${b.major})`,
      });
    }
    if (g.userTables && g.userTables > 0) {
      out.push(
        f.greenResettable
          ? {
              check: 'green-empty',
              status: 'warn',
              message: `green's database "${f.database}" holds ${g.userTables} tables from an earlier cutover`,
              fix: 'clone will drop and re-create it (blue serves, so nothing there is live).',
            }
          : greenNotEmpty(f, g.userTables),
      );
    } else {
      out.push({
        check: 'green-empty',
        status: 'ok',
        message: g.databaseExists ? `green's database "${f.database}" is empty` : `green's database "${f.database}" will be created`,
      });
    }
    // Clone keeps roles green already has as they are: one that cannot log in there would lock the
    // application out after the switchover (PgBouncer then refuses logins for server_login_retry).
    const lockedOut = Object.entries(b.loginRoles ?? {})
      .filter(
        ([name, role]) =>
          role.canLogin &&
          g.loginRoles?.[name] &&
          (!g.loginRoles[name].canLogin || (role.hasPassword && g.loginRoles[name].hasPassword === false)),
      )
      .map(([name]) => name);
    if (lockedOut.length) {
      out.push({
        check: 'roles',
        status: 'block',
        message: `role${lockedOut.length > 1 ? 's' : ''} ${lockedOut.join(', ')} can log in on blue but exist${lockedOut.length > 1 ? '' : 's'} on green without LOGIN or without a password: clone keeps existing roles as they are, so the application could not log in after the switchover`,
        fix: `On green: ALTER ROLE ${lockedOut[0]} LOGIN PASSWORD '...' (as on blue), or DROP ROLE ${lockedOut[0]} so that clone copies it from blue.`,
      });
    }
    const missing = (b.extensions ?? []).filter((e) => !(g.availableExtensions ?? []).includes(e));
    out.push(
      missing.length
        ? {
            check: 'extensions',
            status: 'block',
            message: `extensions missing on green: ${missing.join(', ')}`,
            fix: "Install their packages on green's server.",
          }
        : {
            check: 'extensions',
            status: 'ok',
            message: (b.extensions ?? []).length
              ? `extensions: ${(b.extensions ?? [])
                  .map((e) => {
                    const on = b.extensionVersions?.[e];
                    const offer = g.availableVersions?.[e];
                    return `${e} ${on ?? '?'} on blue, green offers ${offer ?? '?'}${on && offer && on !== offer ? ' (updated on green after the restore)' : ''}`;
                  })
                  .join('; ')}`
              : 'no extensions in use',
          },
    );
  }
  if (
    !b.error &&
    !g.error &&
    b.collation &&
    g.collation &&
    (b.collation.provider !== g.collation.provider || b.collation.version !== g.collation.version)
  ) {
    out.push({
      check: 'collations',
      status: 'warn',
      message: `the default collation differs: blue ${b.collation.provider} ${b.collation.version ?? '(no version)'}, green ${g.collation.provider} ${g.collation.version ?? '(no version)'}: text may sort differently on green, so indexes on text can be out of order there`,
      fix: 'After the clone, `bluegreen compare` lists the indexes to REINDEX on green (before the switchover).',
    });
  }
  const drift = !b.error && !g.error ? collationDrift(b.collationsInUse ?? [], g.collationVersions ?? []) : [];
  if (drift.length) {
    out.push({
      check: 'collations',
      status: 'warn',
      message: `collations in use have another library version on green: ${drift.map((d) => `${d.name} (blue ${d.blue}, green ${d.green})`).join('; ')}: text they sort may sort differently on green`,
      fix: 'After the clone, `bluegreen compare` lists the indexes to REINDEX on green (before the switchover).',
    });
  }
  if (!b.error) {
    if (f.mode === 'replicate') {
      out.push(
        b.walLevel === 'logical'
          ? { check: 'wal-level', status: 'ok', message: 'wal_level = logical' }
          : {
              check: 'wal-level',
              status: 'block',
              message: `wal_level = ${b.walLevel}`,
              fix: 'ALTER SYSTEM SET wal_level = logical; then restart blue.',
            },
      );
    }
    if (f.mode === 'replicate' && b.freeReplicationSlots !== undefined && b.freeWalSenders !== undefined) {
      out.push(
        b.freeReplicationSlots < 1 || b.freeWalSenders < 1
          ? {
              check: 'replication-capacity',
              status: 'block',
              message: `blue has ${b.freeReplicationSlots} free replication slots and ${b.freeWalSenders} free WAL senders`,
              fix: 'Raise max_replication_slots and max_wal_senders on blue (restart needed).',
            }
          : {
              check: 'replication-capacity',
              status: 'ok',
              message: `blue: ${b.freeReplicationSlots} free replication slots, ${b.freeWalSenders} free WAL senders`,
            },
      );
    }
    const noKey = b.tablesWithoutKey ?? [];
    if (noKey.length) {
      out.push({
        check: 'primary-keys',
        status: f.mode === 'replicate' ? 'block' : 'warn',
        message: `${noKey.length} table${noKey.length > 1 ? 's' : ''} without a primary key or replica identity: ${noKey.slice(0, 5).join(', ')}${noKey.length > 5 ? ', …' : ''}`,
        fix:
          f.mode === 'replicate'
            ? `Add a primary key, or ALTER TABLE ${noKey[0]} REPLICA IDENTITY FULL (slower) / USING INDEX <unique index>.`
            : 'Freeze mode copies them; compare can only count their rows.',
      });
    } else {
      out.push({ check: 'primary-keys', status: 'ok', message: 'every table has a primary key or replica identity' });
    }
    if (b.unloggedTables?.length) out.push(unloggedFinding(f));
    if (b.publications?.length) {
      out.push({
        check: 'publications',
        status: 'warn',
        message: `blue has publication${b.publications.length > 1 ? 's' : ''} of its own: ${b.publications.join(', ')}; neither clone copies them (the dump leaves every publication out, so that ours is not copied with them)`,
        fix: 'Create them on green (CREATE PUBLICATION … FOR TABLE …) before the switchover if anything subscribes to them; their subscribers must then be pointed at green.',
      });
    }
    if (b.largeObjects) {
      out.push({
        check: 'large-objects',
        status: 'warn',
        message: `${b.largeObjects} large objects: logical replication does not carry them, the tool copies them`,
        fix:
          f.mode === 'replicate'
            ? 'The clone copies them (bytes, owner, ACL, comment) under its snapshot; each flip copies those created, changed or unlinked since, before the pause, then inside it those changed after that (one scan of pg_largeobject on the side it leaves); compare checks each by hash. A large object the side traffic goes to has and the other never had is left alone.'
            : "The dump copies them; a switchover copies those changed on blue since. A rollback gives up green's changes to them: it refuses without --accept-data-loss, naming their oids.",
      });
    }
    const long = (b.longTransactions ?? []).filter((t) => t.seconds >= LONG_TRANSACTION_SECONDS);
    if (long.length) {
      out.push({
        check: 'long-transactions',
        status: 'warn',
        message: `${long.length} transaction${long.length > 1 ? 's' : ''} open for over ${LONG_TRANSACTION_SECONDS / 60} min (oldest: pid ${long[0].pid}, ${Math.round(long[0].seconds)} s, ${long[0].who})`,
        fix: f.mode === 'freeze' ? 'The freeze ends them; let them finish first.' : 'They hold the switchover: let them finish first.',
      });
    } else {
      out.push({ check: 'long-transactions', status: 'ok', message: 'no long-running transactions' });
    }
    if (f.dumpDirProblem) {
      out.push({
        check: 'disk-space',
        status: 'block',
        message: `dumpDir ${f.dumpDir}: ${f.dumpDirProblem}`,
        fix: 'Point dumpDir in the config at a folder this user can write.',
      });
    } else if (f.streaming) {
      out.push({
        check: 'disk-space',
        status: 'ok',
        message: `clone.backup is "none": the rows stream from blue to green; only the schema is written to ${f.dumpDir}`,
      });
    } else if (f.dumpDirFreeBytes !== undefined && b.sizeBytes !== undefined) {
      const need = b.sizeBytes;
      out.push(
        f.dumpDirFreeBytes < need
          ? {
              check: 'disk-space',
              status: 'block',
              message: `${f.dumpDir}: ${fmtBytes(f.dumpDirFreeBytes)} free, the dump needs up to ${fmtBytes(need)}`,
              fix: 'Free space or set dumpDir to a bigger disk.',
            }
          : {
              check: 'disk-space',
              status: f.dumpDirFreeBytes < need * 1.5 ? 'warn' : 'ok',
              message: `${f.dumpDir}: ${fmtBytes(f.dumpDirFreeBytes)} free for a dump of up to ${fmtBytes(need)}`,
            },
      );
    }
  }
  if (f.mode === 'replicate' && !g.error && g.walLevel !== undefined) {
    // A rollback replicates green → blue: green publishes, so it needs logical WAL and a free slot too.
    out.push(
      g.walLevel !== 'logical' || (g.freeReplicationSlots ?? 0) < 1 || (g.freeWalSenders ?? 0) < 1
        ? {
            check: 'green-replication',
            status: 'block',
            message: `green: wal_level = ${g.walLevel}, ${g.freeReplicationSlots} free slots, ${g.freeWalSenders} free WAL senders: a rollback could not replicate green's writes back`,
            fix: 'On green: wal_level = logical and at least one free replication slot and WAL sender (restart needed).',
          }
        : { check: 'green-replication', status: 'ok', message: replicatesBack(f) },
    );
  }
  if (f.mode === 'replicate') {
    // A stalled subscriber makes its slot keep every byte of WAL the serving side writes, until its disk fills.
    for (const [side, facts] of [
      ['blue', b],
      ['green', g],
    ] as const) {
      if (facts.error || facts.maxSlotWalKeepSize === undefined) continue;
      out.push(
        facts.maxSlotWalKeepSize === '-1'
          ? {
              check: `${side}-slot-wal-limit`,
              status: 'warn',
              message: `${side}: max_slot_wal_keep_size is unlimited: if the other side stops applying (down, or its apply worker failing), ${side} keeps all its WAL for our slot until its disk is full and it stops taking writes`,
              fix: `Set a limit ${side} can afford (ALTER SYSTEM SET max_slot_wal_keep_size = '50GB'; SELECT pg_reload_conf()): a slot past it is invalidated instead, and \`bluegreen status\` shows its wal_status.`,
            }
          : { check: `${side}-slot-wal-limit`, status: 'ok', message: `${side}: max_slot_wal_keep_size = ${facts.maxSlotWalKeepSize}` },
      );
    }
  }
  out.push(
    f.tools.error
      ? {
          check: 'client-tools',
          status: 'block',
          message: f.tools.error,
          fix: 'Install a PostgreSQL client at least as new as blue, or set tools.binDir.',
        }
      : { check: 'client-tools', status: 'ok', message: `pg_dump: ${f.tools.pgDump}` },
  );
  if (f.pointer.error) {
    out.push({
      check: 'pointer',
      status: 'block',
      message: `pointer (${f.pointer.description}): ${f.pointer.error}`,
      fix: 'Fix the pointer section of the config.',
    });
  } else if (f.pointer.pointsAt !== 'blue') {
    out.push({
      check: 'pointer',
      status: 'block',
      message: `pointer (${f.pointer.description}) sends traffic to ${f.pointer.pointsAt}, not to blue`,
      fix: "The pointer must serve blue before a cutover starts: check the config's blue URL and the pointer entry.",
    });
  } else {
    out.push({ check: 'pointer', status: 'ok', message: `pointer (${f.pointer.description}) serves blue` });
  }
  for (const w of f.pointer.warnings ?? []) out.push({ check: 'pointer-settings', status: 'warn', message: w });
  for (const r of poolModeRefusals(f.pointer.poolModes ?? [], f.pointer.database ?? ''))
    out.push({ check: 'pool-mode', status: 'block', message: r.message, fix: r.fix });
  const blockers = f.pauseBlockers;
  if (blockers?.error) {
    out.push({ check: 'pause-blockers', status: 'warn', message: `sessions that would hold the pause: unknown: ${blockers.error}` });
  } else if (blockers?.sessions?.length) {
    out.push({
      check: 'pause-blockers',
      status: 'warn',
      message: `${blockers.sessions.length} session${blockers.sessions.length > 1 ? 's' : ''} on blue would hold a switchover's pause now (transaction or query older than ${blockers.minAgeMs} ms):\n${blockers.sessions.map((b) => `  ${describeBlocker(b)}`).join('\n')}`,
      fix: 'At the switchover they are waited for, unpaused, then refused by name (switchover.blockers.action "wait"); "cancel" cancels their queries, "terminate" ends their sessions (or --blockers on the command).',
    });
  }
  for (const side of ['blue', 'green'] as const) {
    const problem = f.peers?.[side];
    if (problem === undefined) continue;
    const other = side === 'blue' ? 'green' : 'blue';
    out.push(
      problem
        ? {
            check: `${side}-peer`,
            status: 'warn',
            message: `${side}'s peer address is not reachable from this controller (${problem}): ${other} must reach it to replicate, which is checked when the subscription is made`,
            fix: `Check ${side}.peer from ${other}'s host.`,
          }
        : { check: `${side}-peer`, status: 'ok', message: `${side}'s peer address answers` },
    );
  }
  if (f.migrations.error) out.push({ check: 'migrations', status: 'block', message: f.migrations.error });
  else if (f.migrations.pending !== undefined)
    out.push({
      check: 'migrations',
      status: 'ok',
      message: `${f.migrations.pending} migration${f.migrations.pending === 1 ? '' : 's'} to apply on green`,
    });
  return out;
}

export function blocked(findings: ReadonlyArray<Finding>): boolean {
  return findings.some((f) => f.status === 'block');
}

export interface CollationVersion {
  /** `schema.name`, quoted where needed. */
  readonly name: string;
  readonly provider: string;
  /** pg_collation_actual_version: the library's version now (null for C and POSIX, which never change). */
  readonly version: string | null;
}

/**
 * The collations both sides have whose provider or library version differs: text they sort may sort
 * differently on green, so the indexes using them must be rebuilt there. One only blue has yet is
 * left out (the restore creates it; compare checks it afterwards).
 */
export function collationDrift(
  blue: ReadonlyArray<CollationVersion>,
  green: ReadonlyArray<CollationVersion>,
): Array<{ name: string; blue: string; green: string }> {
  const onGreen = new Map(green.map((c) => [c.name, c]));
  const show = (c: CollationVersion) => `${c.provider} ${c.version ?? '(no version)'}`;
  return blue.flatMap((b) => {
    const g = onGreen.get(b.name);
    if (!g || (g.provider === b.provider && g.version === b.version)) return [];
    return [{ name: b.name, blue: show(b), green: show(g) }];
  });
}
