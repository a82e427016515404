/**
 * Zero downtime as the application sees it: one session idle in a transaction must not stall every
 * client. Sessions that would hold PgBouncer's PAUSE are found before it and waited for unpaused,
 * cancelled or ended as configured; what stays is refused by name before anything is paused; PAUSE
 * has a short budget of its own; session and statement pooling are refused before the pause.
 * Durable clusters: every acknowledged write is checked.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _preflight } from '../../src/commands/preflight.js';
import { _status } from '../../src/commands/status.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { silentProgress } from '../../src/adapters/progress.js';
import { missingOrders, type Rig, sql, startRig } from './helpers.js';

/** A client through PgBouncer that opens a transaction, writes an order and leaves it open. */
async function idleInTransaction(url: string): Promise<{ client: pg.Client; id: number }> {
  const client = new pg.Client({ connectionString: url, application_name: 'billing-worker' });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('BEGIN');
  const { rows } = await client.query<{ id: string }>(`INSERT INTO orders (account_id, symbol, side, quantity, limit_price) VALUES (1, 'IDLE', 'buy', 1, 1) RETURNING id`);
  return { client, id: Number(rows[0].id) };
}

describe('sessions that would hold the pause, the pause budget, pool modes', () => {
  let rig: Rig;
  const withBlockers = (blockers: { action: 'wait' | 'cancel' | 'terminate'; waitMs: number; minAgeMs: number }, pauseTimeoutMs = 2000) => ({
    ...rig.deps,
    config: { ...rig.deps.config, switchover: { ...rig.deps.config.switchover, pauseTimeoutMs, blockers } },
  });
  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate' } });
    expect((await _clone(rig.deps)).ok).toBe(true);
  });
  afterAll(() => rig?.stop());

  it('waits for an idle transaction unpaused, then refuses naming it; clients never stall; status lists it', async () => {
    const load = startWriteLoad(rig.sandbox.appUrl, 100, 2);
    const idle = await idleInTransaction(rig.sandbox.appUrl);
    try {
      await new Promise((r) => setTimeout(r, 600));
      const status = await _status(rig.deps);
      expect(status.pauseBlockers?.sessions?.map((b) => b.application)).toContain('billing-worker');
      const refused = await _switchover(withBlockers({ action: 'wait', waitMs: 1500, minAgeMs: 500 }));
      expect(refused.ok).toBe(false);
      expect(refused.error?.exitCode).toBe(3);
      expect(refused.error?.message).toMatch(/1 session on blue would hold the pause \(waited 1\.\d s unpaused; nothing was paused\):\n {2}pid \d+ \S+ "billing-worker" from [\d.]+: idle in transaction, transaction open \d+\.\d s/);
      expect(refused.error?.hint).toMatch(/--blockers cancel .* --blockers terminate/);
      expect(refused.steps.find((s) => s.name === 'pause')?.status).toBe('skipped');
      expect(refused.serving).toBe('blue');
    } finally {
      await idle.client.query('COMMIT');
      await idle.client.end();
    }
    const stats = await load.stop();
    // Nothing was paused: no client waited for the refused flip.
    expect(stats.maxLatencyMs).toBeLessThan(500);
    expect(stats.refused).toBe(0);
    expect(await missingOrders(rig.sandbox.blueUrl, [...stats.acknowledged, idle.id])).toEqual([]);
  });

  it('waits for a transaction that ends by itself, then switches over; its write is on green', async () => {
    const idle = await idleInTransaction(rig.sandbox.appUrl);
    await new Promise((r) => setTimeout(r, 600));
    // The transaction ends 700 ms after the blockers step starts, however long the steps before it took.
    let commit: Promise<unknown> | undefined;
    const progress = {
      ...silentProgress,
      start: (text: string) =>
        void (text.startsWith('Looking for sessions') && !commit && (commit = new Promise((r) => setTimeout(r, 700)).then(() => idle.client.query('COMMIT')))),
    };
    const result = await _switchover({ ...withBlockers({ action: 'wait', waitMs: 5000, minAgeMs: 500 }), progress });
    await commit;
    await idle.client.end();
    expect(result.error).toBeUndefined();
    expect(result.steps.find((s) => s.name === 'blockers')?.detail).toMatch(/^1 session no longer holding the pause \(their transactions ended by themselves\) within \d+ ms$/);
    expect(await missingOrders(rig.sandbox.greenUrl, [idle.id])).toEqual([]);
    expect((await _rollback(rig.deps)).error).toBeUndefined();
  });

  it('--blockers cancel cancels a long query; --blockers terminate ends an idle transaction (its write never acknowledged); both audited', async () => {
    const long = new pg.Client({ connectionString: rig.sandbox.appUrl, application_name: 'report-job' });
    long.on('error', () => undefined);
    await long.connect();
    const query = long.query('SELECT pg_sleep(30)').then(() => 'finished', (e: Error) => e.message);
    await new Promise((r) => setTimeout(r, 700));
    const cancelled = await _switchover(withBlockers({ action: 'wait', waitMs: 3000, minAgeMs: 500 }), { blockers: 'cancel' });
    expect(cancelled.error).toBeUndefined();
    expect(cancelled.steps.find((s) => s.name === 'blockers')?.detail).toMatch(/cancelled the query of pid \d+ \S+ "report-job" .*: active/);
    expect(await query).toMatch(/canceling statement due to user request/);
    await long.end();
    expect((await _rollback(rig.deps)).error).toBeUndefined();

    const idle = await idleInTransaction(rig.sandbox.appUrl);
    await new Promise((r) => setTimeout(r, 600));
    const ended = await _switchover(withBlockers({ action: 'wait', waitMs: 3000, minAgeMs: 500 }), { blockers: 'terminate' });
    expect(ended.error).toBeUndefined();
    expect(ended.steps.find((s) => s.name === 'blockers')?.detail).toMatch(/ended the session of pid \d+ \S+ "billing-worker" .*idle in transaction/);
    await expect(idle.client.query('COMMIT')).rejects.toThrow();
    await idle.client.end().catch(() => undefined);
    expect(await missingOrders(rig.sandbox.greenUrl, [idle.id])).toEqual([idle.id]);
    const audit = readFileSync(`${rig.config.stateDir}/audit.log`, 'utf8');
    expect(audit).toMatch(/"outcome":"query-cancelled".*report-job/);
    expect(audit).toMatch(/"outcome":"session-ended".*billing-worker/);
    expect((await _rollback(rig.deps)).error).toBeUndefined();
  });

  it('a PAUSE that cannot finish costs clients at most its budget plus 100 ms, and is undone', async () => {
    const load = startWriteLoad(rig.sandbox.appUrl, 100, 2);
    const idle = await idleInTransaction(rig.sandbox.appUrl);
    try {
      // Blockers left to PAUSE (a minimum age nothing reaches): what is measured is PAUSE's own budget.
      const result = await _switchover(withBlockers({ action: 'wait', waitMs: 0, minAgeMs: 600_000 }, 800));
      expect(result.ok).toBe(false);
      expect(result.error?.message).toMatch(/could not pause "app" within \d+ ms.*; in a transaction on blue when it gave up: \n {2}pid \d+ \S+ "billing-worker"/s);
      expect(result.serving).toBe('blue');
      expect(result.writePauseMs).toBeLessThanOrEqual(900);
    } finally {
      await idle.client.query('COMMIT');
      await idle.client.end();
    }
    const stats = await load.stop();
    expect(stats.maxLatencyMs).toBeLessThanOrEqual(900);
    expect(await missingOrders(rig.sandbox.blueUrl, [...stats.acknowledged, idle.id])).toEqual([]);
  });

  it('a pointer written as localhost serves blue for status and the guardrail alike (one answer to "which side")', async () => {
    const ini = rig.sandbox.pgbouncer.ini;
    writeFileSync(ini, readFileSync(ini, 'utf8').replace(new RegExp(`^(${rig.sandbox.database}\\s*=.*)host=127\\.0\\.0\\.1`, 'm'), '$1host=localhost'));
    expect(readFileSync(ini, 'utf8')).toMatch(/host=localhost/);
    await sql(rig.sandbox.adminUrl, 'RELOAD');
    expect((await _status(rig.deps)).serving).toBe('blue');
    const result = await _switchover(rig.deps);
    expect(result.error).toBeUndefined();
    expect((await _rollback(rig.deps)).error).toBeUndefined();
    expect((await _status(rig.deps)).serving).toBe('blue');
  });

  it('session and statement pooling are refused before anything is paused, in preflight and at the switchover', async () => {
    const ini = rig.sandbox.pgbouncer.ini;
    const original = readFileSync(ini, 'utf8');
    const entry = new RegExp(`^(${rig.sandbox.database}\\s*=.*)$`, 'm');
    for (const mode of ['session', 'statement']) {
      writeFileSync(ini, original.replace(entry, `$1 pool_mode=${mode}`));
      await sql(rig.sandbox.adminUrl, 'RELOAD');
      const client = new pg.Client({ connectionString: rig.sandbox.appUrl });
      await client.connect();
      try {
        const refused = await _switchover(rig.deps);
        expect(refused.error?.exitCode).toBe(3);
        expect(refused.error?.message).toMatch(new RegExp(`pools "${rig.sandbox.database}" in ${mode} mode`));
        expect(refused.steps.find((s) => s.name === 'pause')?.status).toBe('skipped');
        expect((await _status(rig.deps)).poolModes?.[0]).toMatchObject({ mode });
        const preflight = await _preflight(rig.deps);
        expect(preflight.findings.find((f) => f.check === 'pool-mode')).toMatchObject({ status: 'block', message: expect.stringContaining(`in ${mode} mode`) });
        // Durable clusters: nothing to say about fsync and friends.
        expect(preflight.findings.filter((f) => f.check.endsWith('-durability'))).toEqual([]);
      } finally {
        await client.end();
      }
    }
    writeFileSync(ini, original);
    await sql(rig.sandbox.adminUrl, 'RELOAD');
    expect((await _switchover(rig.deps)).error).toBeUndefined();
  });
});
