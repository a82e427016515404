/** Indexes ordered by a collation: the ones to rebuild when its library's version changes. */
import type { Client } from '../pg.js';
import { USER_NAMESPACE } from './user-schemas.js';

/**
 * Indexes that sort text by a collation (`schema.name`; the database's default when none): the ones to
 * REINDEX when its library version changes.
 */
export async function indexesOnCollation(client: Client, collation?: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT DISTINCT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE (CASE WHEN $1::text IS NULL THEN 100::oid
                  ELSE (SELECT co.oid FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                         WHERE format('%I.%I', cn.nspname, co.collname) = $1) END) = ANY (i.indcollation::oid[])
        AND ${USER_NAMESPACE} ORDER BY 1`,
    [collation ?? null],
  );
  return rows.map((r) => r.name);
}
