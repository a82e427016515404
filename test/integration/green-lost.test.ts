/**
 * Green lost for good in the rollback window: green serves, then crashes and stays down. Before, the
 * tool had no way to put traffic back on blue, the one database that was up. Now `rollback` says what
 * a rollback without green gives up (the last reverse lag read, and when), refuses without
 * --accept-data-loss, and with it puts traffic on blue alone; green, when it answers again, is fenced.
 * Durable clusters: green is killed -9 style (immediate shutdown) and acknowledged writes are checked.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _resume } from '../../src/commands/resume.js';
import { _status } from '../../src/commands/status.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { startStoppedCluster, stopCluster } from '../../src/sandbox/cluster.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { missingOrders, type Rig, sql, startRig } from './helpers.js';

describe('green lost in the window', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate' } });
  });
  afterAll(() => rig?.stop());

  it('rollback states what it gives up, refuses without --accept-data-loss, then puts traffic on blue alone; green is fenced when it returns', async () => {
    expect((await _clone(rig.deps)).ok).toBe(true);
    const load = startWriteLoad(rig.sandbox.appUrl, 100, 2);
    await new Promise((r) => setTimeout(r, 500));
    expect((await _switchover(rig.deps)).error).toBeUndefined();
    await new Promise((r) => setTimeout(r, 800));
    const stats = await load.stop();
    expect(stats.refused).toBe(0);
    // The last reading before the crash: green → blue caught up (status records each reading).
    let status = await _status(rig.deps);
    for (let i = 0; i < 50 && status.replication.find((r) => r.direction === 'green → blue')?.lagBytes !== 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = await _status(rig.deps);
    }
    await stopCluster(rig.sandbox.green, rig.sandbox.user, 'immediate');

    await expect(_resume(rig.deps)).resolves.toMatchObject({ outcome: 'nothing-to-resume' });
    const refused = _rollback(rig.deps);
    await expect(refused).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/^green is unreachable \(.*\); a rollback without it gives up green's writes blue had not applied when green was lost: at the last reading that reached green \(\d{4}-.*\) replication green → blue was running, 0 bytes/) });
    const down = await _status(rig.deps);
    expect(down.phase).toBe('switched-over');
    // Said first: the side traffic goes to does not answer, and the way out.
    expect(down.advice).toMatch(/^green serves but does not answer \(.*\): clients get errors until it is back\. Bring it back, or `bluegreen rollback` puts traffic on blue/);

    const back = await _rollback(rig.deps, { acceptDataLoss: true });
    expect(back.error).toBeUndefined();
    expect(back.serving).toBe('blue');
    expect(back.steps.map((s) => s.name)).toEqual(['pause', 'sequences', 'open-blue', 'detach-from-green', 'flip', 'resume']);
    expect(back.steps.filter((s) => s.status === 'failed')).toEqual([]);
    // Every write acknowledged on either side before the crash is on blue, and blue takes new ones through PgBouncer (no id reused).
    expect(await missingOrders(rig.sandbox.blueUrl, stats.acknowledged)).toEqual([]);
    const after = startWriteLoad(rig.sandbox.appUrl, 100, 2);
    await new Promise((r) => setTimeout(r, 500));
    const afterStats = await after.stop();
    expect(afterStats.refused).toBe(0);
    expect(afterStats.acknowledged.length).toBeGreaterThan(5);
    expect(await missingOrders(rig.sandbox.blueUrl, afterStats.acknowledged)).toEqual([]);
    status = await _status(rig.deps);
    expect(status).toMatchObject({ phase: 'rolled-back', serving: 'blue', lost: { side: 'green' } });
    expect(status.lost?.note).toMatch(/still unreachable/);
    const audit = (await import('node:fs')).readFileSync(`${rig.config.stateDir}/audit.log`, 'utf8');
    expect(audit).toMatch(/"outcome":"data-loss-accepted".*green lost/);

    // Green answers again: fenced at once, never served, never replicating.
    await startStoppedCluster(rig.sandbox.green, rig.sandbox.user);
    status = await _status(rig.deps);
    expect(status.lost?.note).toMatch(/answered again: fenced now/);
    expect(await sql(rig.sandbox.greenUrl, `SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name LIKE 'bluegreen%'`)).toEqual([{ n: 0 }]);
    const app = new pg.Client({ connectionString: `postgres://${rig.sandbox.appUser}:${encodeURIComponent(rig.sandbox.appPassword)}@127.0.0.1:${rig.sandbox.green.port}/${rig.sandbox.database}` });
    await app.connect();
    await expect(app.query(`INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'STALE', 'buy', 1)`)).rejects.toThrow(/frozen by pg-bluegreen/);
    await app.end();
    expect((await _status(rig.deps)).lost?.fencedAt).toMatch(/^\d{4}-/);
  });
});
