/**
 * The zoo tests' witnesses: a writer into the zoo's partitioned table that records every key the
 * database acknowledged, and the waits that tell whether each one reached a side.
 */
import pg from 'pg';
import { quoteQualified } from '../../src/core/quote.js';
import { sql } from '../integration/helpers.js';
import { ZOO_EVENTS } from './zoo.js';

const EVENTS = quoteQualified(ZOO_EVENTS.schema, ZOO_EVENTS.name);

/**
 * A writer into the zoo's partitioned table (through its root, with its triggers), recording the key
 * of every insert the database acknowledged, from `url` (the application's, through PgBouncer).
 */
export function startZooWriter(url: string): { stop(): Promise<{ acknowledged: string[]; refused: number; firstRefusal?: string }> } {
  const acknowledged: string[] = [];
  let refused = 0;
  let firstRefusal: string | undefined;
  let running = true;
  const done = (async () => {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    try {
      for (let i = 0; running; i++) {
        try {
          // Into each level of the partition tree in turn: a plain leaf, a sub-partition, the default.
          const at = ['2025-06-01', '2026-06-01', '2031-01-01'][i % 3];
          const { rows } = await client.query<{ id: string }>(`INSERT INTO ${EVENTS} (at, region, customer_id) VALUES ($1, $2, 1) RETURNING id`, [at, i % 2 ? 'eu' : 'us']);
          acknowledged.push(rows[0].id);
        } catch (error) {
          refused++;
          firstRefusal ??= (error as Error).message;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return { acknowledged, refused, firstRefusal };
    },
  };
}

/** Waits until every acknowledged key is on the side at `url` (replication catches up), or a deadline. */
export async function missingEvents(url: string, ids: ReadonlyArray<string>, waitMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const rows = await sql<{ id: string }>(url, `SELECT unnest($1::bigint[]) AS id EXCEPT SELECT id FROM ${EVENTS}`, [ids]);
    if (!rows.length || Date.now() > deadline) return rows.map((r) => r.id);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function untilCaughtUp(check: () => Promise<number[]>, waitMs = 20_000): Promise<number[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const missing = await check();
    if (!missing.length || Date.now() > deadline) return missing;
    await new Promise((r) => setTimeout(r, 250));
  }
}

