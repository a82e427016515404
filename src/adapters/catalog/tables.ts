/** The application's tables as the catalog lists them: for replication, copying and comparing. */
import { displayName } from '../../core/quote.js';
import type { Client } from '../pg.js';
import { NOT_EXTENSION, USER_NAMESPACE } from './user-schemas.js';

export interface TableRef {
  readonly schema: string;
  readonly name: string;
  /** `schema.table` as operators read it. */
  readonly display: string;
  readonly hasPrimaryKey: boolean;
  readonly replicaIdentity: string;
  readonly unlogged: boolean;
}

export async function listTables(client: Client): Promise<TableRef[]> {
  const { rows } = await client.query<{ schema: string; name: string; has_pk: boolean; relreplident: string; unlogged: boolean }>(
    `SELECT n.nspname AS schema, c.relname AS name,
            EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p') AS has_pk,
            c.relreplident, c.relpersistence = 'u' AS unlogged
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND ${USER_NAMESPACE} AND ${NOT_EXTENSION('c.oid')}
      ORDER BY 1, 2`,
  );
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    display: displayName(r.schema, r.name),
    hasPrimaryKey: r.has_pk,
    replicaIdentity: r.relreplident,
    unlogged: r.unlogged,
  }));
}

export interface TableColumns {
  readonly schema: string;
  readonly name: string;
  readonly columns: ReadonlyArray<string>;
}

/**
 * Every user table that can be published with its stored (non-generated) columns, keyed by display
 * name: for publication column lists. Unlogged tables are left out (PostgreSQL refuses to publish
 * them: "cannot add relation ... to publication"); the flips copy their rows (flip-unlogged.ts).
 */
export async function tableColumns(client: Client): Promise<Map<string, TableColumns>> {
  const { rows } = await client.query<{ schema: string; name: string; columns: string[] }>(
    `SELECT n.nspname AS schema, c.relname AS name, array_agg(a.attname::text ORDER BY a.attnum) AS columns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' AND NOT c.relispartition AND ${USER_NAMESPACE} AND ${NOT_EXTENSION('c.oid')}
      GROUP BY 1, 2`,
  );
  return new Map(rows.map((r) => [displayName(r.schema, r.name), r]));
}
