/**
 * The freeze: how a database stops taking application writes while still serving reads.
 *
 * Not `ALTER DATABASE … SET default_transaction_read_only`: a session can SET it off again, and
 * PgBouncer's pooled server connections keep the value they were opened with, so connections opened
 * during a freeze would stay read-only after the unfreeze (seen here: blue refused writes through
 * PgBouncer after an abort). Instead each table has a statement-level trigger that refuses writes
 * while a flag row says frozen, and an event trigger refuses DDL meanwhile (so no unguarded table can
 * appear). The flag flips without DDL (no table locks at freeze time), and logical replication's
 * apply workers run with session_replication_role = replica, so ordinary triggers do not fire for
 * them: replication keeps applying into a frozen database. Our own sessions pass by setting
 * `bluegreen.allow_writes`, which the triggers honour only for superusers and the guard's installer.
 */
import { quoteIdent, quoteLiteral, quoteQualified } from '../core/quote.js';
import { type Client, APPLICATION_NAME } from './pg.js';

export const GUARD_SCHEMA = 'bluegreen';
export const GUARD_TABLE = 'write_guard';
export const GUARD_FUNCTION = 'refuse_writes';
export const GUARD_TRIGGER = 'bluegreen_write_guard';
export const DDL_GUARD_FUNCTION = 'refuse_ddl';
export const REASON_FUNCTION = 'frozen_reason';
export const DDL_GUARD_TRIGGER = 'bluegreen_ddl_guard';

const INSTALL = `
CREATE SCHEMA IF NOT EXISTS ${GUARD_SCHEMA};
REVOKE ALL ON SCHEMA ${GUARD_SCHEMA} FROM PUBLIC;
CREATE TABLE IF NOT EXISTS ${GUARD_SCHEMA}.${GUARD_TABLE} (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  frozen boolean NOT NULL DEFAULT false,
  reason text,
  since timestamptz
);
INSERT INTO ${GUARD_SCHEMA}.${GUARD_TABLE} (singleton, frozen) VALUES (true, false) ON CONFLICT DO NOTHING;
-- Why this session may not write now (NULL when it may): the one check both triggers share.
CREATE OR REPLACE FUNCTION ${GUARD_SCHEMA}.${REASON_FUNCTION}() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $fn$
DECLARE
  guard record;
BEGIN
  SELECT frozen, reason INTO guard FROM ${GUARD_SCHEMA}.${GUARD_TABLE};
  IF NOT coalesce(guard.frozen, false) THEN
    RETURN NULL;
  END IF;
  -- Who may write through: superusers, and the role that installed the guard (SECURITY DEFINER makes
  -- current_user that role here), so a managed service's admin without SUPERUSER passes too. Not an
  -- application role, unless the application logs in as the installer itself.
  IF coalesce(current_setting('bluegreen.allow_writes', true), '') = 'on'
     AND (session_user = current_user OR (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)) THEN
    RETURN NULL;
  END IF;
  RETURN coalesce(guard.reason, 'frozen');
END
$fn$;
CREATE OR REPLACE FUNCTION ${GUARD_SCHEMA}.${GUARD_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
DECLARE
  why text := ${GUARD_SCHEMA}.${REASON_FUNCTION}();
BEGIN
  IF why IS NOT NULL THEN
    RAISE EXCEPTION 'cannot execute % on %.%: this database is frozen by pg-bluegreen (%)', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME, why
      USING ERRCODE = 'read_only_sql_transaction',
            HINT = 'Writes are refused during a cutover; retry once it is over, against the database the pointer serves.';
  END IF;
  RETURN NULL;
END
$fn$;
CREATE OR REPLACE FUNCTION ${GUARD_SCHEMA}.${DDL_GUARD_FUNCTION}() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
DECLARE
  why text := ${GUARD_SCHEMA}.${REASON_FUNCTION}();
BEGIN
  IF why IS NOT NULL THEN
    RAISE EXCEPTION 'cannot execute %: this database is frozen by pg-bluegreen (%)', tg_tag, why
      USING ERRCODE = 'read_only_sql_transaction',
            HINT = 'Schema changes are refused during a cutover; make them on the database the pointer serves once it is over.';
  END IF;
END
$fn$;
DO $do$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = '${DDL_GUARD_TRIGGER}') THEN
    CREATE EVENT TRIGGER ${DDL_GUARD_TRIGGER} ON ddl_command_start EXECUTE FUNCTION ${GUARD_SCHEMA}.${DDL_GUARD_FUNCTION}();
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  -- Without a superuser (vanilla, Azure): no DDL guard. Preflight's privilege plan declared it, and the
  -- schema is compared by catalog snapshots instead.
  NULL;
END $do$;
`;

/** Every table of the database that the guard must cover (ordinary and partitioned, ours excepted). */
async function guardedTables(client: Client): Promise<Array<{ schema: string; name: string; hasTrigger: boolean }>> {
  const { rows } = await client.query<{ schema: string; name: string; has_trigger: boolean }>(
    `SELECT n.nspname AS schema, c.relname AS name,
            EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = $1) AS has_trigger
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't'
        AND n.nspname NOT IN ('pg_catalog', 'information_schema', $2) AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')`,
    [GUARD_TRIGGER, GUARD_SCHEMA],
  );
  return rows.map((r) => ({ schema: r.schema, name: r.name, hasTrigger: r.has_trigger }));
}

/**
 * Installs (or completes) the guard: idempotent, so tables created since the last install get covered.
 * `lockTimeout`: on a live database, give up rather than queue behind a long transaction and stall writers.
 */
export async function installWriteGuard(client: Client, options: { lockTimeout?: string } = {}): Promise<number> {
  await allowOwnWrites(client);
  if (options.lockTimeout) await client.query(`SELECT set_config('lock_timeout', $1, false)`, [options.lockTimeout]);
  await client.query(INSTALL);
  let added = 0;
  for (const t of await guardedTables(client)) {
    if (t.hasTrigger) continue;
    await client.query(
      `CREATE TRIGGER ${quoteIdent(GUARD_TRIGGER)} BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${quoteQualified(t.schema, t.name)}
         FOR EACH STATEMENT EXECUTE FUNCTION ${GUARD_SCHEMA}.${GUARD_FUNCTION}()`,
    );
    added++;
  }
  return added;
}

/** Removes the guard entirely (finalize on the database that keeps serving). */
export async function removeWriteGuard(client: Client): Promise<void> {
  await allowOwnWrites(client);
  const exists = await client.query(
    `SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = $2`,
    [GUARD_SCHEMA, GUARD_FUNCTION],
  );
  if (exists.rowCount === 0) return;
  await client.query(`DROP EVENT TRIGGER IF EXISTS ${DDL_GUARD_TRIGGER}`);
  await client.query(`DROP FUNCTION IF EXISTS ${GUARD_SCHEMA}.${DDL_GUARD_FUNCTION}()`);
  // Dropping the function with CASCADE removes the triggers on every table with it.
  await client.query(`DROP FUNCTION ${GUARD_SCHEMA}.${GUARD_FUNCTION}() CASCADE`);
  await client.query(`DROP FUNCTION IF EXISTS ${GUARD_SCHEMA}.${REASON_FUNCTION}()`);
  await client.query(`DROP TABLE IF EXISTS ${GUARD_SCHEMA}.${GUARD_TABLE}`);
}

/**
 * Freezes the connected database: flag on, and sessions with a transaction open since before the
 * freeze are ended (a REPEATABLE READ one would not see the flag). Returns how many were ended.
 */
export async function freezeWrites(client: Client, reason: string, options: { install?: boolean } = {}): Promise<number> {
  // Inside a switchover's pause the guard is known to be installed (at clone): skip the DDL, flip the flag.
  if (options.install === false) await allowOwnWrites(client);
  else await installWriteGuard(client);
  await client.query(`UPDATE ${GUARD_SCHEMA}.${GUARD_TABLE} SET frozen = true, reason = $1, since = now()`, [reason]);
  // pg_terminate_backend(pid, timeout) waits for the backend to be gone: none commits after we move on.
  const ended = await client.query(
    `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
        AND xact_start IS NOT NULL AND xact_start < now() AND application_name NOT LIKE $1`,
    [`${APPLICATION_NAME}%`],
  );
  return ended.rowCount ?? 0;
}

/** Opens the connected database for application writes again. */
export async function unfreezeWrites(client: Client): Promise<void> {
  await allowOwnWrites(client);
  const hasGuard = await client.query(
    `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [GUARD_SCHEMA, GUARD_TABLE],
  );
  if (hasGuard.rowCount) await client.query(`UPDATE ${GUARD_SCHEMA}.${GUARD_TABLE} SET frozen = false, reason = NULL, since = NULL`);
}

/** Lets this session write through a freeze (our restores, migrations, sequence syncs). */
export async function allowOwnWrites(client: Client): Promise<void> {
  await client.query(`SET bluegreen.allow_writes = on`);
}

/** TOC lines of a dump that belong to the guard: left out when restoring, so green never inherits a freeze. */
export function isGuardTocLine(line: string): boolean {
  return (
    line.includes(` ${GUARD_SCHEMA} ${GUARD_TABLE} `) ||
    line.includes(`FUNCTION ${GUARD_SCHEMA} ${GUARD_FUNCTION}()`) ||
    line.includes(`FUNCTION ${GUARD_SCHEMA} ${DDL_GUARD_FUNCTION}()`) ||
    line.includes(`FUNCTION ${GUARD_SCHEMA} ${REASON_FUNCTION}()`) ||
    line.includes(`EVENT TRIGGER - ${DDL_GUARD_TRIGGER} `) ||
    (/ TRIGGER /.test(line) && line.includes(` ${GUARD_TRIGGER} `))
  );
}

/**
 * The freeze inside a pause, in one round trip: the flag on (the guard is installed since the clone;
 * our sessions pass it by their startup options), then every session with a transaction open since
 * before it ended (pg_terminate_backend(pid, 5000) waits until each is gone). Returns how many.
 */
export async function freezeInOneTrip(client: Client, reason: string): Promise<number> {
  // The flag is visible to every session at commit, flushed or not; a crash right after is resume's to
  // repair from the record. Not waiting for the disk here keeps a flush out of the pause.
  const results = (await client.query(
    `BEGIN; SET LOCAL synchronous_commit = off;
     UPDATE ${GUARD_SCHEMA}.${GUARD_TABLE} SET frozen = true, reason = ${quoteLiteral(reason)}, since = now(); COMMIT;
     SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
        AND xact_start IS NOT NULL AND xact_start < now() AND application_name NOT LIKE ${quoteLiteral(`${APPLICATION_NAME}%`)}) t`,
  )) as unknown as Array<{ rows: Array<{ n: number }> }>;
  return results[4].rows[0].n;
}

/** Opens the connected database inside a pause, in one round trip; returns the transaction id it was opened at. */
export async function openInOneTrip(client: Client): Promise<string> {
  const results = (await client.query(
    `BEGIN; SET LOCAL synchronous_commit = off; UPDATE ${GUARD_SCHEMA}.${GUARD_TABLE} SET frozen = false, reason = NULL, since = NULL;
     SELECT txid_current()::text AS xid; COMMIT`,
  )) as unknown as Array<{ rows: Array<{ xid: string }> }>;
  return results[3].rows[0].xid;
}
