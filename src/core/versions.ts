/**
 * Every difference between PostgreSQL majors that the tool's SQL or advice depends on, in one table read
 * by the server's major version: callers ask `versionFeatures(major)` instead of comparing numbers.
 * Pure: an adapter reads the version (`serverMajor` in adapters/pg.ts) and passes the number in.
 *
 * What needs no entry, because every major the tool supports (blue 15+, green no older) has it or
 * because the tool reads it the same way on all: pg_stat_subscription_stats and publication column
 * lists (15), pg_replication_slots.wal_status (13); NOT NULL recorded as a constraint (contype 'n', 18),
 * which the catalog reads leave out on every major since the column's definition carries it; the
 * shorter view definitions of 16, which core/view-definition.ts puts in one form. Slot columns
 * (conflicting, invalidation_reason, failover) and subscription options (origin, run_as_owner,
 * disable_on_error, failover) that newer majors added are neither read nor set.
 */

/** The server's major version from server_version_num (150012 → 15, 170004 → 17). */
export function majorOf(serverVersionNum: string | number): number {
  return Math.floor(Number(serverVersionNum) / 10_000);
}

/** The first major with each difference: the table `versionFeatures` reads. */
export const FIRST_MAJOR_WITH = {
  /** Multirange types. */
  multiranges: 14,
  /** The predefined role pg_create_subscription. */
  createSubscriptionRole: 16,
  /** pg_database.datlocale, which replaced daticulocale. */
  datlocale: 17,
} as const;

/** What a server of one major version offers, as the tool's callers need to know it. */
export interface VersionFeatures {
  /** pg_database's column holding an ICU database's locale: 17 renamed `daticulocale` to `datlocale`. */
  readonly databaseLocaleColumn: 'datlocale' | 'daticulocale';
  /** Whether multirange types exist: a walk through a type's parts reaches their range through pg_range.rngmultitypid. */
  readonly multiranges: boolean;
  /**
   * Whether pg_create_subscription exists: with it and CREATE on the database a role that is not a
   * superuser may subscribe; before 16 only superusers may (managed services grant their admin role).
   */
  readonly createSubscriptionRole: boolean;
}

/** What differs on a server of major version `major`. */
export function versionFeatures(major: number): VersionFeatures {
  return {
    databaseLocaleColumn: major >= FIRST_MAJOR_WITH.datlocale ? 'datlocale' : 'daticulocale',
    multiranges: major >= FIRST_MAJOR_WITH.multiranges,
    createSubscriptionRole: major >= FIRST_MAJOR_WITH.createSubscriptionRole,
  };
}
