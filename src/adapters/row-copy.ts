/**
 * Copying rows, or some columns' values by primary key, from one side to the other outside replication:
 * read in one snapshot, in JSON batches.
 */
import { BlueGreenError } from '../core/errors.js';
import { quoteIdent } from '../core/quote.js';
import type { Client } from './pg.js';
import { writeAsReplica } from './replica-writes.js';
import { columnDefs, sqlName } from './schema-carry.js';

/**
 * Copies `columns` of `table` from the serving side to the standby by primary key. Race-free with
 * replication: the caller has made the publication carry these columns and waited until the standby
 * applied past that; here the standby's table is locked against the apply worker (SHARE ROW
 * EXCLUSIVE) before the serving side's snapshot is taken, so any change after the snapshot is
 * applied after the copy, and any applied before it is older than the snapshot the copy writes.
 * Only rows the standby has are updated: rows still on their way carry the columns themselves.
 */
export async function copyColumnsByKey(
  from: Client,
  to: Client,
  table: string,
  columns: ReadonlyArray<string>,
  options: { lock?: boolean; batch?: number } = {},
): Promise<number> {
  const { lock = true, batch = 5000 } = options;
  const key = await primaryKeyColumns(from, table);
  if (!key.length)
    throw new BlueGreenError(`${table} has no primary key: its values cannot be copied by key`, {
      hint: 'Add a primary key on both sides.',
    });
  const selected = [...key, ...columns].map(quoteIdent).join(', ');
  const set = columns.map((c) => `${quoteIdent(c)} = v.${quoteIdent(c)}`).join(', ');
  // Only rows whose values differ are written: a column whose values are its default everywhere costs a read.
  const sameKey = key.map((k) => `t.${quoteIdent(k)} = v.${quoteIdent(k)}`).join(' AND ');
  const differs = columns.map((c) => `t.${quoteIdent(c)} IS DISTINCT FROM v.${quoteIdent(c)}`).join(' OR ');
  const match = `${sameKey} AND (${differs})`;
  let copied = 0;
  await to.query('BEGIN');
  try {
    await writeAsReplica(to, table, 'update');
    if (lock) await to.query(`LOCK TABLE ${sqlName(table)} IN SHARE ROW EXCLUSIVE MODE`);
    await inBatches(from, `SELECT ${selected} FROM ${sqlName(table)}`, batch, async (json) => {
      const res = await to.query(
        `UPDATE ${sqlName(table)} t SET ${set} FROM json_populate_recordset(NULL::${sqlName(table)}, $1::json) v WHERE ${match}`,
        [json],
      );
      copied += res.rowCount ?? 0;
    });
    await to.query('COMMIT');
  } catch (error) {
    await to.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return copied;
}

/**
 * Copies every row of `table` from `from` into the same, empty table on `to`, in the stored columns
 * (identity values kept). For a table nothing writes while it runs: one only the frozen side has.
 */
export async function copyRows(from: Client, to: Client, table: string, batch = 5000): Promise<number> {
  const columns = (await columnDefs(from, table))
    .filter((c) => c.generated === '')
    .map((c) => quoteIdent(c.name))
    .join(', ');
  let copied = 0;
  await inBatches(from, `SELECT ${columns} FROM ${sqlName(table)}`, batch, async (json) => {
    const res = await to.query(
      `INSERT INTO ${sqlName(table)} (${columns}) OVERRIDING SYSTEM VALUE
       SELECT ${columns} FROM json_populate_recordset(NULL::${sqlName(table)}, $1::json)`,
      [json],
    );
    copied += res.rowCount ?? 0;
  });
  return copied;
}

/** The primary key's columns of a table, in key order (none when it has no primary key). */
export async function primaryKeyColumns(client: Client, table: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])
      WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`,
    [sqlName(table)],
  );
  return rows.map((r) => r.name);
}

/** Reads `select` in one repeatable-read snapshot, `batch` rows at a time, each batch handed on as a JSON array. */
async function inBatches(client: Client, select: string, batch: number, each: (json: string) => Promise<void>): Promise<void> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    await client.query(`DECLARE bluegreen_batches NO SCROLL CURSOR FOR SELECT row_to_json(x)::text AS r FROM (${select}) x`);
    for (;;) {
      const { rows } = await client.query<{ r: string }>(`FETCH ${batch} FROM bluegreen_batches`);
      if (!rows.length) break;
      await each(`[${rows.map((r) => r.r).join(',')}]`);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
