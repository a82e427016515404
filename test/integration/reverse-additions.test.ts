/**
 * What green's migrations add reaches blue at the switchover, so replication green → blue never stops
 * on it. Before, a new enum value written on green stopped reverse replication for the rest of the
 * window (green's WAL growing), and new tables and columns reached blue only at the rollback.
 * Durable clusters: a writer's acknowledgements are checked.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _migrate } from '../../src/commands/migrate.js';
import { _status } from '../../src/commands/status.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { withClient } from '../../src/adapters/pg.js';
import { missingOrders, type Rig, sql, startRig } from './helpers.js';

describe('green\'s additions carried to blue at the switchover', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate' } });
    await sql(rig.sandbox.blueUrl, `CREATE TYPE order_state AS ENUM ('open', 'filled'); ALTER TABLE orders ADD COLUMN state order_state DEFAULT 'open'`);
    writeFileSync(path.join(rig.migrationsDir, '0005_order_state_cancelled.up.sql'), `ALTER TYPE order_state ADD VALUE 'cancelled';\n`);
    writeFileSync(path.join(rig.migrationsDir, '0007_leverage_backfill.up.sql'), `UPDATE positions SET leverage = 3 WHERE id <= 4;\n`);
    writeFileSync(path.join(rig.migrationsDir, '0006_price_alert_seed.up.sql'), `INSERT INTO price_alerts (user_id, symbol, threshold, direction) SELECT id, 'DEMO', 100 + id, 'above' FROM users WHERE id <= 7;
GRANT SELECT, INSERT, UPDATE ON price_alerts TO ${rig.sandbox.appUser}; GRANT USAGE ON SEQUENCE price_alerts_id_seq TO ${rig.sandbox.appUser};\n`);
  });
  afterAll(() => rig?.stop());

  it('an enum value, a table with its rows and columns with their values reach blue before the pause; replication back keeps running', async () => {
    const load = startWriteLoad(rig.sandbox.appUrl, 100, 2);
    try {
      expect((await _clone(rig.deps)).ok).toBe(true);
      expect((await _migrate(rig.deps)).error).toBeUndefined();
      const switchover = await _switchover(rig.deps);
      expect(switchover.error).toBeUndefined();
      const carried = switchover.steps.find((s) => s.name === 'carry-to-blue');
      expect(carried?.status).toBe('ok');
      expect(carried?.detail).toMatch(/add value 'cancelled' to enum public\.order_state/);
      expect(carried?.detail).toMatch(/create table public\.price_alerts, publish it and copy its rows/);
      expect(carried?.detail).toMatch(/add column public\.positions\.leverage/);
      expect(carried?.detail).toMatch(/7 rows of public\.price_alerts/);
      expect(carried?.detail).toMatch(/4 values of public\.positions\.leverage/);

      // The application on green uses all of it at once.
      await sql(rig.sandbox.appUrl, `UPDATE orders SET state = 'cancelled' WHERE id <= 10; INSERT INTO price_alerts (user_id, symbol, threshold, direction) VALUES (1, 'NEW', 1, 'below');
        UPDATE positions SET leverage = 5 WHERE id = 5`);
      const q = {
        states: `SELECT id::int, state::text FROM orders WHERE id <= 10 ORDER BY id`,
        alerts: `SELECT id::int, user_id::int, symbol, threshold::text, direction FROM price_alerts ORDER BY id`,
        leverage: `SELECT id::int, leverage::text FROM positions WHERE leverage <> 1 ORDER BY id`,
      };
      let status = await _status(rig.deps);
      for (let i = 0; i < 50; i++) {
        const reverse = status.replication.find((r) => r.direction === 'green → blue');
        const arrived = JSON.stringify(await sql(rig.sandbox.blueUrl, q.alerts)) === JSON.stringify(await sql(rig.sandbox.greenUrl, q.alerts));
        if (reverse?.running && arrived) break;
        await new Promise((r) => setTimeout(r, 200));
        status = await _status(rig.deps);
      }
      expect(status.replication.find((r) => r.direction === 'green → blue')).toMatchObject({ running: true, applyErrors: 0 });
      for (const [name, text] of Object.entries(q)) expect(await sql(rig.sandbox.blueUrl, text), name).toEqual(await sql(rig.sandbox.greenUrl, text));
      expect(status.window).toMatchObject({ next: 'rollback', verdict: 'lossless' });

      const rollback = await _rollback(rig.deps);
      expect(rollback.error).toBeUndefined();
      const stats = await load.stop();
      expect(stats.refused).toBe(0);
      expect(await missingOrders(rig.sandbox.blueUrl, stats.acknowledged)).toEqual([]);
    } finally {
      await load.stop();
    }
  });

  it('a carry cut short after making a table but before its rows were copied is finished by the next run', async () => {
    // As a killed controller leaves it: the table made on blue, empty, and the copy written down as owed.
    await sql(rig.sandbox.greenUrl, `SET bluegreen.allow_writes = on; CREATE TABLE coupons (id bigint PRIMARY KEY, code text NOT NULL);
      INSERT INTO coupons SELECT i, 'C' || i FROM generate_series(1, 12) i`);
    await sql(rig.sandbox.blueUrl, `CREATE TABLE coupons (id bigint PRIMARY KEY, code text NOT NULL); INSERT INTO coupons VALUES (1, 'C1')`);
    writeFileSync(path.join(rig.config.stateDir, `${(await rig.deps.store.load())!.id}.carry-to-blue.json`), JSON.stringify({ tables: ['public.coupons'], columns: [] }));
    const { carryAdditions } = await import('../../src/commands/carry-additions.js');
    const state = (await rig.deps.store.load())!;
    const lines = await withClient(rig.sandbox.greenUrl, (green) => withClient(rig.sandbox.blueUrl, (blue) => carryAdditions(green, blue, { going: 'green', leaving: 'blue' }, { stateDir: rig.config.stateDir, cutoverId: state.id })));
    expect(lines).toEqual(['finished what an earlier run left half-copied (public.coupons)', '12 rows of public.coupons']);
    const rows = `SELECT id::int, code FROM coupons ORDER BY id`;
    expect(await sql(rig.sandbox.blueUrl, rows)).toEqual(await sql(rig.sandbox.greenUrl, rows));
    // Written down no more: the next run owes nothing.
    expect(await withClient(rig.sandbox.greenUrl, (green) => withClient(rig.sandbox.blueUrl, (blue) => carryAdditions(green, blue, { going: 'green', leaving: 'blue' }, { stateDir: rig.config.stateDir, cutoverId: state.id })))).toEqual([]);
  });
});
