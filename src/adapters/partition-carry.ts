/**
 * Partitions in the rollback window. The publication publishes partitions through their root
 * (publish_via_partition_root), so the standby receives the root's rows and routes them into its own
 * partitions: a partition the serving side made (pg_partman does it every day) must exist on the
 * standby before rows for it arrive, and membership changes (attach, detach) are followed there.
 * Rows that were never published (a table attached with rows already in it) are found by key and
 * make the caller copy the root afresh.
 */
import { BlueGreenError } from '../core/errors.js';
import { quoteIdent } from '../core/quote.js';
import type { CarryAction } from '../core/window.js';
import { primaryKeyColumns } from './row-copy.js';
import { catchUp, ownershipSql, partitionByClause, sqlName } from './schema-carry.js';
import { withCatalogSearchPath } from './catalog/search-path.js';
import { type Client, queryOne } from './pg.js';

type PartitionAction = Extract<CarryAction, { kind: 'partition' | 'attach' | 'detach' }>;

/** The standby's default partition of `parent`, if it has one. */
async function defaultPartition(to: Client, parent: string): Promise<string | undefined> {
  const row = await queryOne<{ name: string }>(
    to,
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE i.inhparent = $1::regclass AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'`,
    [sqlName(parent)],
  );
  return row?.name;
}

/** Stored (non-generated) columns of a relation, in order. */
async function storedColumns(client: Client, table: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT attname AS name FROM pg_attribute
      WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`,
    [sqlName(table)],
  );
  return rows.map((r) => r.name);
}

export async function attachPartition(to: Client, a: Extract<PartitionAction, { kind: 'attach' }>): Promise<void> {
  await to.query(`ALTER TABLE ${sqlName(a.parent)} ATTACH PARTITION ${sqlName(a.table)} ${a.bound}`);
}

export async function detachPartition(to: Client, a: Extract<PartitionAction, { kind: 'detach' }>): Promise<void> {
  await to.query(`ALTER TABLE ${sqlName(a.parent)} DETACH PARTITION ${sqlName(a.table)}`);
}

/** The topmost partitioned table above `table` (itself when it is no partition). */
export async function partitionRoot(client: Client, table: string): Promise<string> {
  const row = await queryOne<{ root: string }>(
    client,
    `SELECT format('%I.%I', n.nspname, c.relname) AS root FROM pg_partition_ancestors($1::regclass) a JOIN pg_class c ON c.oid = a.relid
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT c.relispartition`,
    [sqlName(table)],
  );
  return row?.root ?? table;
}

/** Each row of `table` as text in the serving side's column order (the key where there is one). */
async function rowKeys(client: Client, table: string, columns: ReadonlyArray<string>): Promise<Set<string>> {
  const list = columns.map(quoteIdent).join(', ');
  const { rows } = await client.query<{ k: string }>(`SELECT md5(row(${list})::text) AS k FROM ${sqlName(table)}`);
  return new Set(rows.map((r) => r.k));
}

/**
 * How many rows of a partition the serving side has that never reached the standby (a table
 * attached with rows in it: those rows were never published). Read in two rounds, each after the
 * standby applied everything committed before it, so rows in flight or deleted meanwhile are not
 * counted; an over-count only costs a fresh copy. A row that stayed on the serving side through both
 * rounds with the same key is counted; one whose key changed in between is not (its new key is in
 * flight, its old one gone), which is why a table without a key counts every candidate at once.
 */
export async function rowsNeverReplicated(from: Client, to: Client, table: string): Promise<number> {
  const key = await primaryKeyColumns(from, table);
  const columns = key.length ? key : await storedColumns(from, table);
  const serving = await rowKeys(from, table, columns);
  if (!serving.size) return 0;
  await catchUp(from, to, 60_000);
  const standby = await rowKeys(to, table, columns);
  const candidates = [...serving].filter((k) => !standby.has(k));
  if (!candidates.length) return 0;
  // Without a key a row's fingerprint is its whole content: one updated between the rounds would look
  // gone from the serving side. Any candidate then counts (a fresh copy costs time, never rows).
  if (!key.length) return candidates.length;
  const stillServing = await rowKeys(from, table, columns);
  await catchUp(from, to, 60_000);
  const standbyNow = await rowKeys(to, table, columns);
  return candidates.filter((k) => stillServing.has(k) && !standbyNow.has(k)).length;
}

/**
 * Runs the partition actions on the standby in their order (parents before children, detach before
 * attach), in one transaction. Rows the standby's default partition took for a new partition's bound
 * while it lacked the partition (the apply worker routed them there) are set aside before it is made,
 * as PostgreSQL would otherwise refuse it, and put back through the parent once every new partition
 * (sub-partitions too) exists.
 */
export async function carryPartitions(from: Client, to: Client, actions: ReadonlyArray<CarryAction>): Promise<void> {
  if (!actions.length) return;
  const moved: Array<{ parent: string; columns: string; temp: string }> = [];
  await to.query('BEGIN');
  try {
    // Moving rows between partitions on the standby must not fire its triggers: without replica mode it is refused, said plainly.
    await to.query('SET LOCAL session_replication_role = replica').catch((error: { code?: string }) => {
      if (error.code !== '42501') throw error;
      const why = 'SET session_replication_role is refused to this role (no superuser)';
      throw new BlueGreenError(`cannot carry partition changes to the standby: ${why}`, {
        cause: error,
        hint:
          'Run sync-schema as a role allowed SET session_replication_role (Amazon RDS and Supabase give it to the admin), ' +
          'or make the same partition change on the standby by hand.',
      });
    });
    for (const a of actions) {
      if (a.kind === 'partition') {
        const fallback = await defaultPartition(to, a.parent);
        const constraint = fallback
          ? (
              await withCatalogSearchPath(from, () =>
                queryOne<{ c: string | null }>(from, 'SELECT pg_get_partition_constraintdef($1::regclass) AS c', [sqlName(a.table)]),
              )
            )?.c
          : undefined;
        if (fallback && constraint) {
          const columns = (await storedColumns(to, a.parent)).map(quoteIdent).join(', ');
          const temp = quoteIdent(`bluegreen_moved_${moved.length}`);
          await to.query(
            `CREATE TEMPORARY TABLE ${temp} ON COMMIT DROP AS
               WITH d AS (DELETE FROM ${sqlName(fallback)} WHERE ${constraint} RETURNING ${columns}) SELECT * FROM d`,
          );
          moved.push({ parent: a.parent, columns, temp });
        }
        await to.query(
          `CREATE TABLE ${sqlName(a.table)} PARTITION OF ${sqlName(a.parent)} ${a.bound}${await partitionByClause(from, a.table)}`,
        );
        for (const sql of await ownershipSql(from, a.table, 'TABLE')) await to.query(sql);
      } else if (a.kind === 'attach') await attachPartition(to, a);
      else if (a.kind === 'detach') await detachPartition(to, a);
    }
    for (const m of moved)
      await to.query(`INSERT INTO ${sqlName(m.parent)} (${m.columns}) OVERRIDING SYSTEM VALUE SELECT * FROM ${m.temp}`);
    await to.query('COMMIT');
  } catch (error) {
    await to.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

export const isPartitionAction = (a: CarryAction): a is PartitionAction =>
  a.kind === 'partition' || a.kind === 'attach' || a.kind === 'detach';
