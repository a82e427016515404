/**
 * The DDL log: an event trigger on each side records every schema change (time, role, application,
 * command tag, object, statement) into bluegreen.ddl_log, so `status` can say what a deploy did
 * during the rollback window as it happens. A change it cannot record is never silent: the trigger
 * records a marker row instead (`MISSED_COMMAND`, with PostgreSQL's reason), which `status` reports as
 * "the DDL log missed something"; when even the marker cannot be written, the DDL fails with our error.
 * A deploy's DDL failing is the lesser harm: a change nobody sees is what makes a rollback lossy unseen.
 */
import { GUARD_SCHEMA } from './write-guard.js';
import type { Client } from './pg.js';

export const DDL_LOG_TABLE = 'ddl_log';
const RECORD_FUNCTION = 'record_ddl';
const END_TRIGGER = 'bluegreen_ddl_log_end';
const DROP_TRIGGER = 'bluegreen_ddl_log_drop';
/** The command of a marker row: a schema change happened that the log could not record. */
export const MISSED_COMMAND = 'bluegreen: not recorded';

/** What the author of a DDL statement reads when neither the log nor its marker could record it. */
const REFUSED_HINT =
  'The DDL was refused so the rollback window cannot miss it unseen: ' +
  `repair ${GUARD_SCHEMA}.${DDL_LOG_TABLE} (or run bluegreen finalize) and run it again.`;

const INSTALL = `
CREATE SCHEMA IF NOT EXISTS ${GUARD_SCHEMA};
CREATE TABLE IF NOT EXISTS ${GUARD_SCHEMA}.${DDL_LOG_TABLE} (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  role text NOT NULL DEFAULT session_user,
  application text DEFAULT current_setting('application_name', true),
  command text NOT NULL,
  object_type text,
  object text,
  statement text
);
CREATE OR REPLACE FUNCTION ${GUARD_SCHEMA}.${RECORD_FUNCTION}() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
DECLARE
  r record;
BEGIN
  -- pg-bluegreen's own DDL (carried changes, subscriptions whose statements hold a password) is not the application's.
  IF coalesce(current_setting('application_name', true), '') LIKE 'bluegreen%' THEN
    RETURN;
  END IF;
  IF tg_event = 'sql_drop' THEN
    FOR r IN SELECT object_type, object_identity FROM pg_event_trigger_dropped_objects() LOOP
      INSERT INTO ${GUARD_SCHEMA}.${DDL_LOG_TABLE} (command, object_type, object, statement)
        VALUES (tg_tag, r.object_type, r.object_identity, left(current_query(), 2000));
    END LOOP;
  ELSE
    FOR r IN SELECT command_tag, object_type, object_identity FROM pg_event_trigger_ddl_commands() LOOP
      INSERT INTO ${GUARD_SCHEMA}.${DDL_LOG_TABLE} (command, object_type, object, statement)
        VALUES (r.command_tag, r.object_type, r.object_identity, left(current_query(), 2000));
    END LOOP;
  END IF;
EXCEPTION WHEN OTHERS THEN
  -- The failed insert was rolled back with this block's subtransaction: leave a marker in its place. If
  -- the marker fails too, its error ends the statement (the DDL fails loudly rather than going unseen).
  DECLARE
    why text := format('%s (SQLSTATE %s, during %s)', SQLERRM, SQLSTATE, tg_tag);
  BEGIN
    INSERT INTO ${GUARD_SCHEMA}.${DDL_LOG_TABLE} (command, statement)
      VALUES ('${MISSED_COMMAND}', left(why || ': ' || current_query(), 2000));
    RAISE WARNING 'pg-bluegreen could not record this DDL in its log (a marker says so in status): %', why;
  EXCEPTION WHEN OTHERS THEN
    RAISE EXCEPTION 'pg-bluegreen could not record this DDL in its log, nor a marker (%): %', why, SQLERRM
      USING HINT = '${REFUSED_HINT}';
  END;
END
$fn$;
DO $do$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = '${END_TRIGGER}') THEN
    CREATE EVENT TRIGGER ${END_TRIGGER} ON ddl_command_end EXECUTE FUNCTION ${GUARD_SCHEMA}.${RECORD_FUNCTION}();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = '${DROP_TRIGGER}') THEN
    CREATE EVENT TRIGGER ${DROP_TRIGGER} ON sql_drop EXECUTE FUNCTION ${GUARD_SCHEMA}.${RECORD_FUNCTION}();
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  NULL; -- no event triggers for this role: DDL is found by catalog snapshots (preflight's privilege plan says so)
END $do$;
`;

/** Installs the DDL log on the connected database (idempotent). */
export async function installDdlLog(client: Client): Promise<void> {
  await client.query(INSTALL);
}

export async function removeDdlLog(client: Client): Promise<void> {
  await client.query(`DROP EVENT TRIGGER IF EXISTS ${END_TRIGGER}; DROP EVENT TRIGGER IF EXISTS ${DROP_TRIGGER};
    DROP FUNCTION IF EXISTS ${GUARD_SCHEMA}.${RECORD_FUNCTION}(); DROP TABLE IF EXISTS ${GUARD_SCHEMA}.${DDL_LOG_TABLE}`);
}

export interface DdlEntry {
  readonly at: string;
  readonly role: string;
  readonly application: string | null;
  readonly command: string;
  readonly objectType: string | null;
  readonly object: string | null;
  readonly statement: string | null;
}

/** Whether the connected database keeps the DDL log (an empty log and none at all say different things). */
export async function hasDdlLog(client: Client): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${GUARD_SCHEMA}.${DDL_LOG_TABLE}`]);
  return rows[0].ok;
}

/**
 * Schema changes made since `since` (ISO time) (pg-bluegreen's own are never recorded), oldest first, at most
 * `limit`. An empty list when the log is not installed.
 */
export async function ddlSince(client: Client, since: string, limit = 50): Promise<DdlEntry[]> {
  if (!(await hasDdlLog(client))) return [];
  const { rows } = await client.query<{
    at: Date;
    role: string;
    application: string | null;
    command: string;
    object_type: string | null;
    object: string | null;
    statement: string | null;
  }>(
    `SELECT at, role, application, command, object_type, object, statement FROM ${GUARD_SCHEMA}.${DDL_LOG_TABLE}
      WHERE at > $1::timestamptz ORDER BY id LIMIT $2`,
    [since, limit],
  );
  return rows.map((r) => ({
    at: r.at.toISOString(),
    role: r.role,
    application: r.application,
    command: r.command,
    objectType: r.object_type,
    object: r.object,
    statement: r.statement,
  }));
}

/** TOC lines of a dump that belong to the DDL log: never restored (each side keeps its own). */
export function isDdlLogTocLine(line: string): boolean {
  return (
    line.includes(` ${GUARD_SCHEMA} ${DDL_LOG_TABLE}`) ||
    line.includes(`FUNCTION ${GUARD_SCHEMA} ${RECORD_FUNCTION}()`) ||
    line.includes(`EVENT TRIGGER - bluegreen_ddl_log_`)
  );
}
