/**
 * Freeze mode under the managed profile (an admin without SUPERUSER, SCRAM everywhere), blue 15 → green
 * 17: the freeze that holds blue still while it is copied is the guard trigger the admin installs as
 * table owner, and it must hold against the application's role; the switchover then moves traffic with
 * every acknowledged write on green, and blue stays frozen to the application. Durable clusters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _preflight } from '../../src/commands/preflight.js';
import { _status } from '../../src/commands/status.js';
import { _switchover } from '../../src/commands/switchover.js';
import { createDeps } from '../../src/commands/context.js';
import { silentProgress } from '../../src/adapters/progress.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { missingOrders, type Rig, sql, startRig } from './helpers.js';

describe('managed profile in freeze mode: blue 15 → green 17 as an admin without SUPERUSER', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false, blueMajor: 15, greenMajor: 17, managed: true, config: { mode: 'freeze' } });
    process.env.BG_TEST_ROLE_PASSWORD_app = rig.sandbox.appPassword;
  });
  afterAll(async () => {
    delete process.env.BG_TEST_ROLE_PASSWORD_app;
    await rig?.stop();
  });

  it('blue frozen against the application while it is copied, the switchover moves traffic, every acknowledged write is on green', async () => {
    const deps = createDeps({ ...rig.config, roles: { passwordsEnv: 'BG_TEST_ROLE_PASSWORD_' } }, silentProgress);
    const pre = await _preflight(deps);
    expect(pre.findings.filter((f) => f.status === 'block')).toEqual([]);
    const before = startWriteLoad(rig.sandbox.appUrl, 100, 2);
    await new Promise((r) => setTimeout(r, 500));
    await before.stop();
    const clone = await _clone(deps);
    expect(clone.error).toBeUndefined();
    // The application's role, on blue directly and through PgBouncer, cannot write while blue is frozen.
    const blueAsApp = `postgres://app:${encodeURIComponent(rig.sandbox.appPassword)}@127.0.0.1:${rig.sandbox.blue.port}/app`;
    await expect(sql(blueAsApp, `INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'FROZEN', 'buy', 1)`)).rejects.toThrow(/frozen/);
    await expect(sql(rig.sandbox.appUrl, `DELETE FROM orders WHERE id = (SELECT min(id) FROM orders)`)).rejects.toThrow(/frozen/);
    const flip = await _switchover(deps);
    expect(flip.error).toBeUndefined();
    expect((await _status(deps)).serving).toBe('green');
    const after = startWriteLoad(rig.sandbox.appUrl, 100, 2);
    await new Promise((r) => setTimeout(r, 800));
    await after.stop();
    const acknowledged = [...before.acknowledged(), ...after.acknowledged()];
    expect(after.acknowledged().length).toBeGreaterThan(0);
    expect(await missingOrders(rig.sandbox.greenUrl, acknowledged)).toEqual([]);
    // Blue stays frozen to the application after the switchover (freeze mode's rollback reads it as it was).
    await expect(sql(blueAsApp, `UPDATE orders SET quantity = quantity + 1 WHERE id = (SELECT min(id) FROM orders)`)).rejects.toThrow(/frozen/);
  });
});
