/** The built-in runner's history table on green: `bluegreen.migrations`. */
import type { AppliedMigration, Migration } from '../core/migrations.js';
import type { Client } from './pg.js';

export const HISTORY_TABLE = 'bluegreen.migrations';

export async function ensureHistory(client: Client): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS bluegreen;
    CREATE TABLE IF NOT EXISTS ${HISTORY_TABLE} (
      version text PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      duration_ms integer NOT NULL,
      applied_by text NOT NULL
    );
    -- Why the file's author took responsibility for what the lint refuses (-- bluegreen:unchecked <reason>).
    ALTER TABLE ${HISTORY_TABLE} ADD COLUMN IF NOT EXISTS unchecked text`);
}

export async function readHistory(client: Client): Promise<AppliedMigration[]> {
  const exists = await client.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [HISTORY_TABLE]);
  if (!exists.rows[0].ok) return [];
  const hasUnchecked = await client.query(
    `SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'unchecked' AND NOT attisdropped`,
    [HISTORY_TABLE],
  );
  const { rows } = await client.query<AppliedMigration & { unchecked: string | null }>(
    `SELECT version, name, checksum, ${hasUnchecked.rowCount ? 'unchecked' : 'NULL::text AS unchecked'}
       FROM ${HISTORY_TABLE} ORDER BY version::numeric`,
  );
  return rows.map((r) => ({ version: r.version, name: r.name, checksum: r.checksum, ...(r.unchecked ? { unchecked: r.unchecked } : {}) }));
}

export async function recordApplied(client: Client, m: Migration, durationMs: number, by: string, unchecked?: string): Promise<void> {
  await client.query(
    `INSERT INTO ${HISTORY_TABLE} (version, name, checksum, duration_ms, applied_by, unchecked) VALUES ($1, $2, $3, $4, $5, $6)`,
    [m.version, m.name, m.checksum, durationMs, by, unchecked ?? null],
  );
}

export async function forgetApplied(client: Client, version: string): Promise<void> {
  await client.query(`DELETE FROM ${HISTORY_TABLE} WHERE version = $1`, [version]);
}

/** The history with when and by whom each migration was applied (for the report). */
export async function readHistoryDetails(
  client: Client,
): Promise<Array<{ version: string; name: string; checksum: string; appliedAt: string; appliedBy: string; unchecked?: string }>> {
  const base = await readHistory(client);
  if (!base.length) return [];
  const { rows } = await client.query<{ version: string; applied_at: Date; applied_by: string }>(
    `SELECT version, applied_at, applied_by FROM ${HISTORY_TABLE}`,
  );
  const extra = new Map(rows.map((r) => [r.version, r]));
  return base.map((m) => ({
    ...m,
    appliedAt: extra.get(m.version)?.applied_at.toISOString() ?? '',
    appliedBy: extra.get(m.version)?.applied_by ?? '',
  }));
}
