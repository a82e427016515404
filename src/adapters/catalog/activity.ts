/** Other sessions' open transactions, from pg_stat_activity. */
import type { Client } from '../pg.js';

/** Transactions open on this database for longer than `seconds`, not ours: they would hold a PAUSE. */
export async function longTransactions(client: Client, seconds: number): Promise<Array<{ pid: number; seconds: number; who: string }>> {
  const { rows } = await client.query<{ pid: number; seconds: number; who: string }>(
    `SELECT pid, extract(epoch FROM now() - xact_start)::float8 AS seconds,
            coalesce(usename, '?') || ' ' || coalesce(application_name, '') AS who
       FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
        AND xact_start < now() - make_interval(secs => $1) AND application_name NOT LIKE 'bluegreen%'
      ORDER BY xact_start`,
    [seconds],
  );
  return rows;
}
