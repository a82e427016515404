/**
 * Freeze mode: blue keeps no copy of what green does after the switchover, so a rollback must name
 * every change green made, deletes and truncates included (issue 21: an xmin count saw none of them,
 * and the rollback restored deleted rows without a word). The dumping clone also carries large objects.
 * Fast clusters: no durability asserted.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _compare } from '../../src/commands/compare.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { _status } from '../../src/commands/status.js';
import { count, type Rig, sql, startRig } from './helpers.js';

describe('freeze mode: a rollback sees every change green made since the switchover', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ scale: 0.02 });
    // A large object referenced by a table, with a comment: pg_dump's blobs must reach green.
    await sql(rig.sandbox.blueUrl, `CREATE TABLE documents (id int PRIMARY KEY, body oid NOT NULL)`);
    await sql(rig.sandbox.blueUrl, `INSERT INTO documents SELECT 1, lo_from_bytea(0, convert_to(repeat('contract ', 900), 'UTF8'))`);
    await sql(rig.sandbox.blueUrl, `DO $$ BEGIN EXECUTE format('COMMENT ON LARGE OBJECT %s IS %L', (SELECT body FROM documents), 'signed'); END $$`);
  });
  afterAll(() => rig?.stop());

  it('the dumping clone copies large objects with their bytes and comment', async () => {
    expect((await _clone(rig.deps)).ok).toBe(true);
    const read = (url: string) => sql<{ oid: string; md5: string; comment: string }>(url, `SELECT d.body::text AS oid, md5(lo_get(d.body)), obj_description(d.body, 'pg_largeobject') AS comment FROM documents d`);
    const [blue, green] = await Promise.all([read(rig.sandbox.blueUrl), read(rig.sandbox.greenUrl)]);
    expect(green).toEqual(blue);
    expect(green[0].comment).toBe('signed');
  });

  it('the switchover installs counters that compare does not take for a schema change', async () => {
    const result = await _switchover(rig.deps);
    expect(result.error).toBeUndefined();
    expect(result.steps.find((s) => s.name === 'count-changes-on-green')).toMatchObject({ status: 'ok' });
    // Through PgBouncer, now on green: a delete, a truncate, an update and an insert.
    await sql(rig.sandbox.appUrl, `DELETE FROM positions WHERE id IN (SELECT id FROM positions ORDER BY id LIMIT 7)`);
    await sql(rig.sandbox.appUrl, `TRUNCATE api_keys`);
    await sql(rig.sandbox.appUrl, `UPDATE users SET name = name || '!' WHERE id <= 3`);
    await sql(rig.sandbox.appUrl, `BEGIN; DELETE FROM positions WHERE id = (SELECT max(id) FROM positions); ROLLBACK`);
    const compared = await _compare(rig.deps);
    expect(compared.schema.unexpected).toEqual([]);
    expect(compared.tables.find((t) => t.table === 'public.positions')?.status).toBe('written-since-switchover');
    expect(compared.ok).toBe(true);
  });

  it('rollback refuses without --accept-data-loss, naming each table and what was done to it', async () => {
    const keysOnBlue = await count(rig.sandbox.blueUrl, 'api_keys');
    expect(keysOnBlue).toBeGreaterThan(0);
    // status says it first, from the same counters: the rollback would give these up.
    const status = await _status(rig.deps);
    expect(status.window).toMatchObject({ next: 'rollback', verdict: 'lossy' });
    expect(status.window!.losses.map((l) => `${l.object}: ${l.what.split(' on green')[0]}`)).toEqual([
      `table public.api_keys: ${keysOnBlue} row changes`, 'table public.positions: 7 row changes', 'table public.users: 3 row changes',
    ]);
    // --dry-run says it too, before anything runs.
    const plan = await _rollback(rig.deps, { dryRun: true });
    expect(plan.steps[0]).toMatchObject({ name: 'verdict', detail: expect.stringMatching(/^WOULD LOSE: table public\.api_keys .*refused unless --accept-data-loss/) });
    const refused = await _rollback(rig.deps);
    expect(refused.ok).toBe(false);
    expect(refused.error).toMatchObject({ code: 'data_loss_refused', exitCode: 3 });
    expect(refused.lostWrites).toEqual([
      { table: 'public.api_keys', written: keysOnBlue, truncated: keysOnBlue },
      { table: 'public.positions', written: 7, deleted: 7 },
      { table: 'public.users', written: 3, updated: 3 },
    ]);
    expect(refused.error?.message).toContain(`public.api_keys: ${keysOnBlue} rows (${keysOnBlue} truncated)`);
    expect(refused.error?.message).toContain('public.positions: 7 rows (7 deleted)');
    expect(refused.serving).toBe('green');
    expect(await count(rig.sandbox.appUrl, 'api_keys')).toBe(0);
  });

  it('with --accept-data-loss it rolls back, records what was given up, and removes the counters from green', async () => {
    const result = await _rollback(rig.deps, { acceptDataLoss: true });
    expect(result.error).toBeUndefined();
    expect(result.serving).toBe('blue');
    expect(result.steps.find((s) => s.name === 'guardrails')?.detail).toMatch(/^ACCEPTED LOSS of \d+ row changes made on green: public.api_keys, public.positions, public.users$/);
    expect(result.steps.find((s) => s.name === 'recount-changes-on-green')?.detail).toBe('nothing more');
    const state = JSON.parse(readFileSync(`${rig.config.stateDir}/state.json`, 'utf8'));
    expect(state.flips.at(-1).acceptedLosses.map((l: { object: string }) => l.object)).toEqual(['table public.api_keys', 'table public.positions', 'table public.users']);
    expect(readFileSync(`${rig.config.stateDir}/audit.log`, 'utf8')).toMatch(/"outcome":"data-loss-accepted".*public\.positions: 7 rows \(7 deleted\)/);
    expect(await sql(rig.sandbox.greenUrl, `SELECT count(*)::int AS n FROM pg_trigger WHERE tgname LIKE 'bluegreen_count_%'`)).toEqual([{ n: 0 }]);
    expect(await sql(rig.sandbox.greenUrl, `SELECT to_regclass('bluegreen.changes_since_switchover') AS t`)).toEqual([{ t: null }]);
    // Blue is as it was at the switchover: the keys green truncated are back on blue, which serves.
    expect(await count(rig.sandbox.appUrl, 'api_keys')).toBeGreaterThan(0);
  });
});
