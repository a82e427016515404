/**
 * Freeze mode's exact record of what green changes after the switchover. Blue keeps no copy of
 * green's writes in freeze mode, so a rollback gives them up, and must know every one: rows counted by
 * `xmin` show inserts and updates but never a delete or a truncate, and pg_stat_user_tables' counters
 * are flushed late and can be reset. So the switchover, while green is still frozen, gives every
 * table on green statement-level triggers that add what each statement did (its transition table's
 * rows; before a TRUNCATE, the rows it removes) to one counter per table, operation and backend (so
 * concurrent writers never wait on each other's counter row), in the statement's own transaction (a
 * rolled-back write counts nothing). `ENABLE ALWAYS`: a session with session_replication_role =
 * replica is still counted. Removed by the rollback once blue serves, and by finalize.
 */
import { displayName, quoteIdent, quoteQualified } from '../core/quote.js';
import type { Client } from './pg.js';
import { GUARD_SCHEMA } from './write-guard.js';

const COUNTER_TABLE = 'changes_since_switchover';
const COUNT_FUNCTION = 'count_changes';
/** Trigger name per operation: the prefix marks them as ours (compare leaves them out of the schema). */
export const COUNTER_TRIGGER_PREFIX = 'bluegreen_count_';
const OPERATIONS = ['insert', 'update', 'delete', 'truncate'] as const;
const PAST = { insert: 'inserted', update: 'updated', delete: 'deleted', truncate: 'truncated' } as const;

const INSTALL = `
CREATE SCHEMA IF NOT EXISTS ${GUARD_SCHEMA};
REVOKE ALL ON SCHEMA ${GUARD_SCHEMA} FROM PUBLIC;
CREATE TABLE IF NOT EXISTS ${GUARD_SCHEMA}.${COUNTER_TABLE} (
  relid oid NOT NULL,
  op text NOT NULL,
  backend int NOT NULL,
  schema_name text NOT NULL,
  table_name text NOT NULL,
  rows bigint NOT NULL,
  statements bigint NOT NULL,
  PRIMARY KEY (relid, op, backend)
);
CREATE OR REPLACE FUNCTION ${GUARD_SCHEMA}.${COUNT_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
DECLARE
  n bigint;
BEGIN
  IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
    SELECT count(*) INTO n FROM bluegreen_new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT count(*) INTO n FROM bluegreen_old_rows;
  ELSE
    -- ONLY: a TRUNCATE of a parent fires each child's trigger too, each counts its own rows.
    EXECUTE format('SELECT count(*) FROM ONLY %I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO n;
  END IF;
  IF n > 0 THEN
    INSERT INTO ${GUARD_SCHEMA}.${COUNTER_TABLE} AS c (relid, op, backend, schema_name, table_name, rows, statements)
    VALUES (TG_RELID, lower(TG_OP), pg_backend_pid(), TG_TABLE_SCHEMA, TG_TABLE_NAME, n, 1)
    ON CONFLICT (relid, op, backend) DO UPDATE
      SET rows = c.rows + excluded.rows, statements = c.statements + 1,
          schema_name = excluded.schema_name, table_name = excluded.table_name;
  END IF;
  RETURN NULL;
END
$fn$;
`;

/** The four triggers of one table, ALWAYS enabled. Transition tables allow one event per trigger. */
function triggersFor(schema: string, name: string): string {
  const table = quoteQualified(schema, name);
  const fn = `${GUARD_SCHEMA}.${COUNT_FUNCTION}()`;
  const t = (op: (typeof OPERATIONS)[number]) => quoteIdent(`${COUNTER_TRIGGER_PREFIX}${op}`);
  const each = `FOR EACH STATEMENT EXECUTE FUNCTION ${fn}`;
  return [
    `CREATE TRIGGER ${t('insert')} AFTER INSERT ON ${table} REFERENCING NEW TABLE AS bluegreen_new_rows ${each}`,
    `CREATE TRIGGER ${t('update')} AFTER UPDATE ON ${table} REFERENCING NEW TABLE AS bluegreen_new_rows ${each}`,
    `CREATE TRIGGER ${t('delete')} AFTER DELETE ON ${table} REFERENCING OLD TABLE AS bluegreen_old_rows ${each}`,
    `CREATE TRIGGER ${t('truncate')} BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}`,
    ...OPERATIONS.map((op) => `ALTER TABLE ${table} ENABLE ALWAYS TRIGGER ${t(op)}`),
  ].join(';\n');
}

/**
 * Every table that can hold rows (partitions and inheritance children too: a write may name them
 * directly), with how many of our counters it has enabled.
 */
async function countableTables(client: Client): Promise<Array<{ schema: string; name: string; counters: number }>> {
  const { rows } = await client.query<{ schema: string; name: string; counters: number }>(
    `SELECT n.nspname AS schema, c.relname AS name,
            (SELECT count(*)::int FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname LIKE $2 || '%' AND t.tgenabled = 'A') AS counters
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't'
        AND n.nspname NOT IN ('pg_catalog', 'information_schema', $1) AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
      ORDER BY 1, 2`,
    [GUARD_SCHEMA, COUNTER_TRIGGER_PREFIX],
  );
  return rows;
}

/**
 * Installs the counters on every table and starts them from zero (writes our own sessions made before,
 * such as migrations, are not green's application writes). Run while green is frozen. Returns how many tables.
 */
export async function installChangeCounter(client: Client): Promise<number> {
  await client.query(INSTALL);
  await client.query(`TRUNCATE ${GUARD_SCHEMA}.${COUNTER_TABLE}`);
  const tables = await countableTables(client);
  for (const t of tables) {
    if (t.counters === OPERATIONS.length) continue;
    await dropTriggers(client, t.schema, t.name);
    await client.query(triggersFor(t.schema, t.name));
  }
  return tables.length;
}

async function dropTriggers(client: Client, schema: string, name: string): Promise<void> {
  await client.query(
    OPERATIONS.map(
      (op) => `DROP TRIGGER IF EXISTS ${quoteIdent(`${COUNTER_TRIGGER_PREFIX}${op}`)} ON ${quoteQualified(schema, name)}`,
    ).join(';'),
  );
}

/** Removes every trigger, the function and the counters: the rollback's and finalize's clean-up. Idempotent. */
export async function removeChangeCounter(client: Client): Promise<void> {
  const installed = await client.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${GUARD_SCHEMA}.${COUNTER_TABLE}`]);
  if (!installed.rows[0].ok) return;
  // CASCADE on the function takes every table's triggers with it.
  await client.query(
    `DROP FUNCTION IF EXISTS ${GUARD_SCHEMA}.${COUNT_FUNCTION}() CASCADE; DROP TABLE IF EXISTS ${GUARD_SCHEMA}.${COUNTER_TABLE}`,
  );
}

/** What green did to one table since the switchover, in rows. `written` is their sum. */
export interface TableChanges {
  readonly table: string;
  readonly written: number;
  readonly inserted?: number;
  readonly updated?: number;
  readonly deleted?: number;
  readonly truncated?: number;
  /** Why the count is not from the counters: the table is new on green, or its counters are gone or disabled. */
  readonly note?: string;
}

/** The counters' grand total: read before the pause and again inside it, to see what came in between. */
export async function changeTotal(client: Client): Promise<number | undefined> {
  const { rows } = await client.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${GUARD_SCHEMA}.${COUNTER_TABLE}`]);
  if (!rows[0].ok) return undefined;
  const total = await client.query<{ n: string }>(`SELECT coalesce(sum(rows), 0)::text AS n FROM ${GUARD_SCHEMA}.${COUNTER_TABLE}`);
  return Number(total.rows[0].n);
}

/**
 * Every change green made since the switchover, per table: the counters, plus each table that has no
 * working counters (made on green since, or its triggers dropped or disabled), all of whose rows are
 * counted. `undefined` when no counter was installed (a switchover by an earlier version).
 */
export async function changesSinceSwitchover(client: Client): Promise<TableChanges[] | undefined> {
  if ((await changeTotal(client)) === undefined) return undefined;
  const { rows } = await client.query<{ schema: string; name: string; op: string; n: string }>(
    `SELECT schema_name AS schema, table_name AS name, op, sum(rows)::text AS n
       FROM ${GUARD_SCHEMA}.${COUNTER_TABLE} GROUP BY relid, 1, 2, 3 ORDER BY 1, 2, 3`,
  );
  const byTable = new Map<string, Record<string, number>>();
  for (const r of rows) {
    const key = displayName(r.schema, r.name);
    byTable.set(key, { ...byTable.get(key), [r.op]: (byTable.get(key)?.[r.op] ?? 0) + Number(r.n) });
  }
  const out: TableChanges[] = [...byTable].map(([table, ops]) => {
    const counts = Object.fromEntries(OPERATIONS.filter((op) => ops[op]).map((op) => [PAST[op], ops[op]]));
    return { table, written: Object.values(ops).reduce((a, b) => a + b, 0), ...counts };
  });
  for (const t of await countableTables(client)) {
    if (t.counters === OPERATIONS.length) continue;
    const { rows: n } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ONLY ${quoteQualified(t.schema, t.name)}`);
    const table = displayName(t.schema, t.name);
    const note =
      t.counters === 0
        ? 'not counted: made on green since the switchover, or its counting triggers were dropped; every row it holds is counted'
        : 'its counting triggers were disabled: every row it holds is counted';
    // A table made since and still empty holds nothing to lose.
    if (Number(n[0].n) > 0 || t.counters > 0) out.push({ table, written: Number(n[0].n), note });
  }
  return out.sort((a, b) => a.table.localeCompare(b.table));
}

/** Drops our triggers' entries from a schema snapshot: compare must not take them for green's own schema changes. */
export function withoutChangeCounters<T extends Record<string, string>>(schema: T): T {
  return Object.fromEntries(
    Object.entries(schema).filter(([key]) => !(key.startsWith('trigger ') && key.includes(`.${COUNTER_TRIGGER_PREFIX}`))),
  ) as T;
}
