/** Fast clusters: no durability asserted. */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _migrate } from '../../src/commands/migrate.js';
import { loadState } from '../../src/commands/context.js';
import { parseConfig } from '../../src/core/config.js';
import { createDeps } from '../../src/commands/context.js';
import { silentProgress } from '../../src/adapters/progress.js';
import { findTool } from '../../src/adapters/pg-binaries.js';
import { type Rig, sql, startRig } from './helpers.js';

const columns = async (url: string, table: string) =>
  (await sql<{ column_name: string }>(url, `SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, [table])).map((r) => r.column_name);

describe('migrate', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
    const clone = await _clone(rig.deps);
    expect(clone.ok).toBe(true);
  });
  afterAll(() => rig?.stop());

  it('applies the migrations to green only, recording each in the history table', async () => {
    const result = await _migrate(rig.deps);
    expect(result.applied).toEqual(['0001', '0002', '0003', '0004']);
    expect(await columns(rig.sandbox.greenUrl, 'positions')).toContain('leverage');
    expect(await columns(rig.sandbox.blueUrl, 'positions')).not.toContain('leverage');
    const history = await sql<Record<string, unknown>>(rig.sandbox.greenUrl, `SELECT version, name, length(checksum) AS len, applied_by, duration_ms >= 0 AS timed, applied_at <= now() AS dated FROM bluegreen.migrations ORDER BY version`);
    expect(history[0]).toEqual({ version: '0001', name: 'add_positions_leverage', len: 64, applied_by: rig.deps.who, timed: true, dated: true });
    // CREATE INDEX CONCURRENTLY ran outside a transaction and left a valid index.
    expect(await sql(rig.sandbox.greenUrl, `SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'trades_executed_at_idx' AND i.indisvalid`)).toHaveLength(1);
    expect((await _migrate(rig.deps)).applied).toEqual([]);
  });

  it('refuses to run when an applied migration file has changed', async () => {
    const file = path.join(rig.migrationsDir, '0001_add_positions_leverage.up.sql');
    const original = (await import('node:fs')).readFileSync(file, 'utf8');
    appendFileSync(file, '-- edited after it was applied\n');
    try {
      const changed = await _migrate(rig.deps);
      expect(changed.ok).toBe(false);
      expect(changed.error?.message).toContain('applied migration has changed since: 0001_add_positions_leverage.up.sql');
    } finally {
      writeFileSync(file, original);
    }
  });

  it('rolls a failing migration back and reports PostgreSQL\'s message with line and column', async () => {
    writeFileSync(path.join(rig.migrationsDir, '0005_bad.up.sql'), `ALTER TABLE users ADD COLUMN nickname text;\nUPDATE users SET nickname = nosuchcolumn;\n`);
    const report = await _migrate(rig.deps);
    expect(report.ok).toBe(false);
    expect(report.steps.at(-1)).toMatchObject({ name: '0005_bad.up.sql', status: 'failed', detail: 'UPDATE users SET nickname = nosuchcolumn;' });
    const error = report.error;
    expect(error?.message).toContain('migration 0005_bad.up.sql failed at line 2, column 29:');
    expect(error?.message).toContain('UPDATE users SET nickname = nosuchcolumn;');
    expect(error?.message).toContain('column "nosuchcolumn" does not exist (SQLSTATE 42703)');
    expect(error?.hint).toContain('It was rolled back: green is as it was before this migration.');
    expect(await columns(rig.sandbox.greenUrl, 'users')).not.toContain('nickname');
    expect((await loadState(rig.deps)).phase).toBe('ready');
    (await import('node:fs')).rmSync(path.join(rig.migrationsDir, '0005_bad.up.sql'));
  });

  it('reverts the latest migration with its down script, on green', async () => {
    const result = await _migrate(rig.deps, { down: true });
    expect(result.reverted).toEqual(['0004']);
    expect(await sql(rig.sandbox.greenUrl, `SELECT to_regclass('price_alerts') AS t`)).toEqual([{ t: null }]);
    expect((await loadState(rig.deps)).migrationsApplied).toEqual(['0001', '0002', '0003']);
    expect((await _migrate(rig.deps)).applied).toEqual(['0004']);
  });

  it('runs an external migration command with green in DATABASE_URL and the PG* variables', async () => {
    const json = JSON.parse((await import('node:fs')).readFileSync(rig.configFile, 'utf8'));
    const psql = findTool('psql', rig.sandbox.green.major);
    json.migrations = { command: `${psql} -v ON_ERROR_STOP=1 -c 'CREATE TABLE from_external_tool (id int)' && ${psql} "$DATABASE_URL" -Atc 'SELECT current_database()'` };
    const config = parseConfig(JSON.stringify(json), rig.configFile, rig.env);
    const deps = createDeps(config, silentProgress);
    const result = await _migrate(deps);
    expect(result.steps[0]).toMatchObject({ name: 'external command', status: 'ok' });
    expect(await sql(rig.sandbox.greenUrl, `SELECT to_regclass('from_external_tool')::text AS t`)).toEqual([{ t: 'from_external_tool' }]);
    expect(await sql(rig.sandbox.blueUrl, `SELECT to_regclass('from_external_tool')::text AS t`)).toEqual([{ t: null }]);
    // Green is guarded again afterwards.
    expect(await sql(rig.sandbox.greenUrl, `SELECT frozen FROM bluegreen.write_guard`)).toEqual([{ frozen: true }]);
    json.migrations = { command: 'echo "flyway: checksum mismatch" >&2; exit 7' };
    const failing = createDeps(parseConfig(JSON.stringify(json), rig.configFile, rig.env), silentProgress);
    const failed = await _migrate(failing);
    expect(failed.ok).toBe(false);
    expect(failed.error?.message).toMatch(/migration command failed \(exit 7\)[\s\S]*flyway: checksum mismatch/);
  });
});
