/**
 * A side lost for good, the other ways round from green-lost.test.ts: blue lost before the switchover
 * (abort without blue) and blue lost in the window (finalize without blue). What can be done on the
 * side that answers is done; what needs the lost side is said, and done when it answers again.
 * Durable clusters; blue is stopped immediate (a crash).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _abort } from '../../src/commands/abort.js';
import { _clone } from '../../src/commands/clone.js';
import { _finalize } from '../../src/commands/finalize.js';
import { _status } from '../../src/commands/status.js';
import { _switchover } from '../../src/commands/switchover.js';
import { startStoppedCluster, stopCluster } from '../../src/sandbox/cluster.js';
import { type Rig, sql, startRig } from './helpers.js';

const ours = (url: string) => sql<{ kind: string; name: string }>(url, `SELECT 'slot' AS kind, slot_name::text AS name FROM pg_replication_slots WHERE slot_name LIKE 'bluegreen%'
  UNION ALL SELECT 'subscription', subname::text FROM pg_subscription WHERE subname LIKE 'bluegreen%'
  UNION ALL SELECT 'publication', pubname::text FROM pg_publication WHERE pubname LIKE 'bluegreen%'`);

describe('blue lost before the switchover: abort without blue', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate' } });
  });
  afterAll(() => rig?.stop());

  it("undoes green's side at once, says what waits for blue, and finishes when blue answers", async () => {
    expect((await _clone(rig.deps)).ok).toBe(true);
    await stopCluster(rig.sandbox.blue, rig.sandbox.user, 'immediate');
    const partial = await _abort(rig.deps);
    expect(partial.ok).toBe(false);
    expect(partial.error).toMatchObject({ code: 'partial', exitCode: 1 });
    expect(partial.error?.message).toMatch(/^aborted without blue: blue is unreachable \(.*\); green's side is undone/);
    expect(partial.error?.hint).toMatch(/When blue answers, run `bluegreen abort` again: it opens blue .* drops this cutover's slot there/);
    expect(await ours(rig.sandbox.greenUrl)).toEqual([]);
    await startStoppedCluster(rig.sandbox.blue, rig.sandbox.user);
    expect(await ours(rig.sandbox.blueUrl)).toEqual([expect.objectContaining({ kind: 'slot' }), expect.objectContaining({ kind: 'publication' })]);
    const done = await _abort(rig.deps);
    expect(done.error).toBeUndefined();
    expect(await ours(rig.sandbox.blueUrl)).toEqual([]);
    // Blue takes the application's writes through PgBouncer again.
    expect(await sql(rig.sandbox.appUrl, `INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'BACK', 'buy', 1) RETURNING id`)).toHaveLength(1);
  });
});

describe('blue lost in the window: finalize without blue', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate' } });
  });
  afterAll(() => rig?.stop());

  it('retires blue as lost, drops our objects on green, and fences blue when it answers', async () => {
    expect((await _clone(rig.deps)).ok).toBe(true);
    expect((await _switchover(rig.deps)).error).toBeUndefined();
    await stopCluster(rig.sandbox.blue, rig.sandbox.user, 'immediate');
    const result = await _finalize(rig.deps, { force: true });
    expect(result.error).toBeUndefined();
    expect(result.steps.find((s) => s.name === 'retire-blue')).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/^blue is unreachable .*: recorded as lost; it is fenced/) });
    expect(await ours(rig.sandbox.greenUrl)).toEqual([]);
    let status = await _status(rig.deps);
    expect(status).toMatchObject({ phase: 'finalized', serving: 'green', lost: { side: 'blue' } });
    expect(status.lost?.note).toMatch(/still unreachable/);
    await startStoppedCluster(rig.sandbox.blue, rig.sandbox.user);
    status = await _status(rig.deps);
    expect(status.lost?.note).toMatch(/answered again: fenced now/);
    expect(await ours(rig.sandbox.blueUrl)).toEqual([]);
    const app = new pg.Client({ connectionString: `postgres://${rig.sandbox.appUser}:${encodeURIComponent(rig.sandbox.appPassword)}@127.0.0.1:${rig.sandbox.blue.port}/${rig.sandbox.database}` });
    await app.connect();
    await expect(app.query(`INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'STALE', 'buy', 1)`)).rejects.toThrow(/frozen by pg-bluegreen/);
    await app.end();
  });
});
