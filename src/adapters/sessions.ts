/** The sessions on a database that would hold a PgBouncer PAUSE, and cancelling or ending them. */
import type { Blocker } from '../core/blockers.js';
import type { Client } from './pg.js';

/**
 * Client sessions (not ours, not replication) whose transaction has been open, or whose query has
 * been running, for longer than `minAgeMs`: PAUSE would wait for each.
 */
export async function pauseBlockers(client: Client, minAgeMs: number): Promise<Blocker[]> {
  const { rows } = await client.query<{
    pid: number;
    user: string;
    application: string;
    client: string;
    state: string;
    transaction_ms: number;
    query_start: string | null;
  }>(
    `SELECT pid, coalesce(usename, '?') AS user, coalesce(application_name, '') AS application,
            coalesce(host(client_addr), 'local') AS client,
            coalesce(state, '?') AS state, coalesce(extract(epoch FROM clock_timestamp() - xact_start) * 1000, 0)::float8 AS transaction_ms,
            to_char(query_start, 'YYYY-MM-DD HH24:MI:SS TZ') AS query_start
       FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
        AND application_name NOT LIKE 'bluegreen%'
        AND ((xact_start IS NOT NULL AND clock_timestamp() - xact_start > $1 * interval '1 millisecond')
          OR (state = 'active' AND clock_timestamp() - query_start > $1 * interval '1 millisecond'))
      ORDER BY xact_start NULLS LAST, pid`,
    [minAgeMs],
  );
  return rows.map((r) => ({
    pid: r.pid,
    user: r.user,
    application: r.application,
    client: r.client,
    state: r.state,
    transactionMs: Math.round(r.transaction_ms),
    queryStart: r.query_start,
  }));
}

/** pg_cancel_backend / pg_terminate_backend on one pid; false when PostgreSQL refused or the session was gone. */
export async function signalBackend(client: Client, pid: number, how: 'cancel' | 'terminate'): Promise<boolean> {
  const fn = how === 'cancel' ? 'pg_cancel_backend' : 'pg_terminate_backend';
  const { rows } = await client.query<{ ok: boolean }>(`SELECT ${fn}($1) AS ok`, [pid]);
  return rows[0]?.ok === true;
}
