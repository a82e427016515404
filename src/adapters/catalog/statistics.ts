/** Planner statistics: a restored database has none until something analyzes it. */
import { quoteQualified } from '../../core/quote.js';
import type { Client } from '../pg.js';

/**
 * Planner statistics for every table nothing has analyzed yet (pg_restore gathers none; autovacuum
 * usually does within a minute). Returns how many tables it analyzed.
 */
export async function analyzeWhereMissing(client: Client): Promise<number> {
  const { rows } = await client.query<{ schema: string; name: string }>(
    `SELECT schemaname AS schema, relname AS name FROM pg_stat_user_tables WHERE last_analyze IS NULL AND last_autoanalyze IS NULL`,
  );
  for (const t of rows) await client.query(`ANALYZE ${quoteQualified(t.schema, t.name)}`);
  return rows.length;
}
