/** The search_path catalog reads run under, so both sides' definitions print alike. */
import type { Client } from '../pg.js';

/**
 * Runs catalog reads with `search_path = pg_catalog`, restoring the session's own after: format_type,
 * pg_get_expr and pg_get_*def leave out the schema of whatever is on the search path, so a
 * database-level `search_path` on one side only made identical objects read differently.
 */
export async function withCatalogSearchPath<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  const before = (await client.query<{ p: string }>(`SELECT current_setting('search_path') AS p`)).rows[0].p;
  await client.query(`SELECT set_config('search_path', 'pg_catalog', false)`);
  try {
    return await fn();
  } finally {
    await client.query(`SELECT set_config('search_path', $1, false)`, [before]).catch(() => undefined);
  }
}
