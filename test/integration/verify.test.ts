/**
 * Content verification: the differences counts miss, named by key; awkward types; exactness under live writes.
 * Fast clusters: no durability asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _compare } from '../../src/commands/compare.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { type Rig, sql, startRig } from './helpers.js';

const onGreen = (rig: Rig, text: string) => sql(rig.sandbox.greenUrl, `SET bluegreen.allow_writes = on; ${text}`);

describe('content verification (freeze mode, 1M rows)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ seed: false, config: { migrations: undefined } });
    await sql(rig.sandbox.blueUrl, `
      CREATE TABLE ledger (id bigint PRIMARY KEY, account int NOT NULL, amount numeric(14,2), memo text, at timestamptz NOT NULL DEFAULT '2026-01-01');
      INSERT INTO ledger SELECT i, i % 1000, (i % 997) * 1.25, 'entry ' || i, timestamptz '2026-01-01' + i * interval '1 second' FROM generate_series(1, 1000000) i;
      CREATE TABLE events_log (source text, payload text);
      INSERT INTO events_log SELECT 's' || (i % 7), 'p' || i FROM generate_series(1, 5000) i;
      CREATE TABLE awkward (
        id int PRIMARY KEY, f float8, r real, n numeric, ts timestamptz, j jsonb, arr int[], t text, c text COLLATE "C", doc json, pt point
      );
      INSERT INTO awkward VALUES
        (1, 0.1 + 0.2, 1.1, 1.50, '2026-03-01 12:00:00+02', '{"b": 2, "a": [1, {"x": null}]}', '{1,NULL,3}', '', 'ÄbC', '{"k": 1}', '(1,2)'),
        (2, -0.0, 'NaN', 0.000, '2026-03-01 12:00:00-11', '{}', '{}', NULL, 'z', '[]', NULL);
      ANALYZE;`);
    expect((await _clone(rig.deps)).ok).toBe(true);
  });
  afterAll(() => rig?.stop());

  it('a fresh clone verifies clean, awkward types included, in one hash per table', async () => {
    const result = await _compare(rig.deps);
    expect(result.tables.map((t) => [t.table, t.status, t.method, t.chunks])).toEqual([
      ['public.awkward', 'ok', 'key', 1],
      ['public.events_log', 'ok', 'multiset', 1],
      ['public.ledger', 'ok', 'key', 1],
    ]);
    expect(result.ok).toBe(true);
    expect(result.tables.find((t) => t.table === 'public.ledger')).toMatchObject({ blueRows: 1_000_000, greenRows: 1_000_000 });
  });

  it('names the one row of a million whose one column changed, a deleted row and an inserted row', async () => {
    await onGreen(rig, `UPDATE ledger SET memo = 'tampered' WHERE id = 654321; DELETE FROM ledger WHERE id = 17; INSERT INTO ledger (id, account, amount, memo) VALUES (2000000, 1, 1, 'extra')`);
    const result = await _compare(rig.deps);
    expect(result.ok).toBe(false);
    const ledger = result.tables.find((t) => t.table === 'public.ledger')!;
    expect(ledger.status).toBe('differs');
    expect(ledger.differences).toEqual(
      expect.arrayContaining([
        { key: { id: '654321' }, kind: 'differs', columns: ['memo'] },
        { key: { id: '17' }, kind: 'missing-on-green' },
        { key: { id: '2000000' }, kind: 'missing-on-blue' },
      ]),
    );
    expect(ledger.differences).toHaveLength(3);
    expect(ledger.blueRows).toBe(ledger.greenRows); // the counts alone would have said "same"
    expect(ledger.chunks).toBeLessThan(120);
  });

  it('a keyless table with a duplicated row differs as a multiset', async () => {
    await onGreen(rig, `INSERT INTO events_log SELECT * FROM events_log LIMIT 1`);
    const table = (await _compare(rig.deps)).tables.find((t) => t.table === 'public.events_log');
    expect(table).toMatchObject({ status: 'differs', method: 'multiset', blueRows: 5000, greenRows: 5001 });
  });

  it('types that compare badly as text compare by value; NULL and empty string stay apart', async () => {
    // Another session time zone and float text settings change text forms, not values.
    await onGreen(rig, `SET timezone = 'Asia/Kathmandu'; SET extra_float_digits = 0; UPDATE awkward SET j = '{"a": [1, {"x": null}], "b": 2}' WHERE id = 1`);
    expect((await _compare(rig.deps)).tables.find((t) => t.table === 'public.awkward')?.status).toBe('ok');
    await onGreen(rig, `UPDATE awkward SET t = NULL WHERE id = 1`);
    expect((await _compare(rig.deps)).tables.find((t) => t.table === 'public.awkward')?.differences).toEqual([{ key: { id: '1' }, kind: 'differs', columns: ['t'] }]);
  });
});

describe('content verification under live replication', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ config: { mode: 'replicate', migrations: undefined } });
    expect((await _clone(rig.deps)).ok).toBe(true);
  });
  afterAll(() => rig?.stop());

  it('repeated compares under a steady writer report no difference, and a row changed on green is still found', async () => {
    const load = startWriteLoad(rig.sandbox.appUrl, 150, 3);
    try {
      for (let i = 0; i < 3; i++) {
        const result = await _compare(rig.deps);
        expect(result.tables.filter((t) => t.status === 'differs'), JSON.stringify(result.tables)).toEqual([]);
        expect(result.ok).toBe(true);
      }
      await onGreen(rig, `UPDATE accounts SET balance = balance + 0.01 WHERE id = 42`);
      const result = await _compare(rig.deps);
      expect(result.ok).toBe(false);
      expect(result.tables.find((t) => t.table === 'public.accounts')?.differences).toEqual([{ key: { id: '42' }, kind: 'differs', columns: ['balance'] }]);
      expect(result.tables.filter((t) => t.status === 'differs').map((t) => t.table)).toEqual(['public.accounts']);
    } finally {
      await load.stop();
    }
  });
});

describe('switchover.verify: an exact check, inside the pause, of what was written since the last compare', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ config: { mode: 'replicate', migrations: undefined, switchover: { verify: true } } });
    expect((await _clone(rig.deps)).ok).toBe(true);
  });
  afterAll(() => rig?.stop());

  it('refuses to switch when a row written since the compare differs on green; switches once it is right', async () => {
    const { _switchover } = await import('../../src/commands/switchover.js');
    expect((await _compare(rig.deps)).ok).toBe(true);
    await sql(rig.sandbox.appUrl, `UPDATE accounts SET balance = 100 WHERE id = 7; INSERT INTO users (email, name) VALUES ('new@example.com', 'n')`);
    // A clean compare (it catches up with replication first) is the baseline the switchover checks after.
    expect((await _compare(rig.deps)).ok).toBe(true);
    // Written on blue since that compare, then damaged on green behind replication's back.
    await sql(rig.sandbox.appUrl, `UPDATE accounts SET balance = 200 WHERE id = 7`);
    await new Promise((r) => setTimeout(r, 500));
    await onGreen(rig, `UPDATE accounts SET balance = 999 WHERE id = 7`);
    const refused = await _switchover(rig.deps);
    expect(refused.ok).toBe(false);
    expect(refused.serving).toBe('blue');
    expect(refused.error?.message).toMatch(/^switchover aborted at verify: switchover\.verify found differences after the drain:\n {2}public\.accounts: 1 row written since the last compare differs \(key \["7"\]\)/);
    // Blue writes the row again: replication overwrites green's damage, and the switchover goes through, checked.
    await sql(rig.sandbox.appUrl, `UPDATE accounts SET balance = 300 WHERE id = 7`);
    const result = await _switchover(rig.deps);
    expect(result.error).toBeUndefined();
    const verify = result.steps.find((s) => s.name === 'verify');
    expect(verify).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^\d+ rows? written since the compare of .* equal on both sides; row counts equal$/) });
    expect(result.writePauseMs).toBeGreaterThanOrEqual(verify!.ms);
    console.log(`switchover.verify took ${verify!.ms} ms of a ${result.writePauseMs} ms write pause`);
  });
});
