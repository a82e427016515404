/** Rows written since a transaction, per table: what went into a side after a point in time. */
import { quoteQualified } from '../../core/quote.js';
import type { Client } from '../pg.js';
import { listTables } from './tables.js';

export interface WrittenRows {
  readonly table: string;
  readonly written: number;
}

/** This transaction's id (64-bit): rows written later have a newer xmin. */
export async function currentXid(client: Client): Promise<string> {
  const { rows } = await client.query<{ xid: string }>('SELECT txid_current()::text AS xid');
  return rows[0].xid;
}

/**
 * Rows inserted or updated since transaction `sinceXid`, per table: their xmin is younger than it.
 * (`age()` handles wraparound; rows frozen by VACUUM since count as old, which needs 50M transactions.)
 */
export async function countRowsWrittenSince(client: Client, sinceXid: string): Promise<WrittenRows[]> {
  const out: WrittenRows[] = [];
  for (const t of await listTables(client)) {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${quoteQualified(t.schema, t.name)} WHERE age(xmin) <= (txid_current() - $1::bigint)`,
      [sinceXid],
    );
    if (Number(rows[0].n) > 0) out.push({ table: t.display, written: Number(rows[0].n) });
  }
  return out;
}
