/**
 * Unlogged tables at a flip. PostgreSQL cannot publish them, so logical replication never carries
 * their rows: the flip reads them on the side traffic leaves and copies them into the side it goes
 * to. Read before the pause (which tables, how many rows, which columns both sides have) and copied
 * inside it, after the freeze, when the side we leave holds still: the copy is then exact.
 */
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { displayName, quoteIdent, quoteQualified } from '../core/quote.js';
import { NOT_EXTENSION, USER_NAMESPACE } from './catalog/user-schemas.js';
import { CopyOutRelay, relayInto } from './copy-relay.js';
import type { Client } from './pg.js';

export interface UnloggedTable {
  readonly schema: string;
  readonly name: string;
  readonly display: string;
  /** Rows on the side we leave when it was read. */
  readonly rows: number;
  /** The columns both sides have that a COPY can write (not generated), in the source's order; empty when the target lacks the table. */
  readonly columns: ReadonlyArray<string>;
  /** The side we go to has a table of that name. */
  readonly onTarget: boolean;
}

/** Every column a COPY can write, per table, of the ordinary tables named (leaf partitions included). */
async function writableColumns(
  client: Client,
  where: string,
  params: unknown[],
): Promise<Map<string, { schema: string; name: string; columns: string[] }>> {
  const { rows } = await client.query<{ schema: string; name: string; columns: string[] }>(
    `SELECT n.nspname AS schema, c.relname AS name,
            coalesce(array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attname IS NOT NULL), '{}'::text[]) AS columns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      WHERE c.relkind = 'r' AND ${where}
      GROUP BY 1, 2`,
    params,
  );
  return new Map(rows.map((r) => [`${r.schema}.${r.name}`, r]));
}

/** The side we leave's unlogged tables, with their row counts and the columns the side we go to can take. */
export async function readUnloggedTables(from: Client, to: Client): Promise<UnloggedTable[]> {
  const source = await writableColumns(from, `c.relpersistence = 'u' AND ${USER_NAMESPACE} AND ${NOT_EXTENSION('c.oid')}`, []);
  if (!source.size) return [];
  const tables = [...source.values()];
  const target = await writableColumns(to, `(n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, [
    tables.map((t) => t.schema),
    tables.map((t) => t.name),
  ]);
  const out: UnloggedTable[] = [];
  for (const t of tables.sort((a, b) => displayName(a.schema, a.name).localeCompare(displayName(b.schema, b.name)))) {
    const { rows } = await from.query<{ n: string }>(`SELECT count(*) AS n FROM ONLY ${quoteQualified(t.schema, t.name)}`);
    const other = target.get(`${t.schema}.${t.name}`);
    out.push({
      schema: t.schema,
      name: t.name,
      display: displayName(t.schema, t.name),
      rows: Number(rows[0].n),
      columns: other ? t.columns.filter((c) => other.columns.includes(c)) : [],
      onTarget: !!other,
    });
  }
  return out;
}

/**
 * Replaces each table's rows on `to` with `from`'s, in one transaction on each side: `to`'s tables are
 * emptied together, then one COPY relayed per table. Triggers and foreign-key checks do not fire on
 * `to` (session_replication_role = replica, as replication's apply does): the rows are a copy of a
 * consistent side, and an application trigger must not act on them a second time. Returns the rows copied.
 */
export async function copyUnloggedTables(from: Client, to: Client, tables: ReadonlyArray<UnloggedTable>): Promise<number> {
  if (!tables.length) return 0;
  const list = tables.map((t) => quoteQualified(t.schema, t.name)).join(', ');
  // An empty search_path on both sides, as the clone's copy: a regclass value's text names its schema and reads back as the same object.
  await Promise.all([
    from.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL search_path = ''`),
    to.query(`BEGIN; SET LOCAL session_replication_role = replica; SET LOCAL search_path = ''; TRUNCATE ONLY ${list}`),
  ]);
  try {
    let rows = 0;
    for (const t of tables) {
      const columns = t.columns.map(quoteIdent).join(', ');
      const out = new CopyOutRelay(`COPY (SELECT ${columns} FROM ONLY ${quoteQualified(t.schema, t.name)}) TO STDOUT`, () => undefined);
      void from.query(out as unknown as pg.Submittable);
      const into = to.query(relayInto(`COPY ${quoteQualified(t.schema, t.name)} (${columns}) FROM STDIN`));
      await pipeline(out, into);
      rows += Number((into as unknown as { rowCount?: number }).rowCount ?? 0);
    }
    await Promise.all([to.query('COMMIT'), from.query('COMMIT')]);
    return rows;
  } catch (error) {
    await Promise.all([to.query('ROLLBACK').catch(() => undefined), from.query('ROLLBACK').catch(() => undefined)]);
    throw error;
  }
}
