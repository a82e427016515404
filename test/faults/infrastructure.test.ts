/**
 * Infrastructure faults inside a flip's pause and during the rollback window: PgBouncer killed -9 and
 * restarted, blue's postmaster crashed and restarted, the controller's connection to green cut, a slot
 * invalidated by max_slot_wal_keep_size. Each ends with traffic on exactly one database that takes
 * writes, every acknowledged write on it, and a message that says what happened and what to do.
 * Durable clusters (fsync, synchronous_commit, full_page_writes on): acknowledged writes are checked.
 * The fault lands exactly when a step starts: the flip's progress port is told each step's title.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { _clone } from '../../src/commands/clone.js';
import { createDeps } from '../../src/commands/context.js';
import { _status } from '../../src/commands/status.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { _reseed } from '../../src/commands/reseed.js';
import { guard } from '../../src/commands/guard.js';
import { toPrometheus } from '../../src/core/prometheus.js';
import { silentProgress } from '../../src/adapters/progress.js';
import { restartPgbouncer } from '../../src/sandbox/pgbouncer.js';
import type { Side } from '../../src/core/state.js';
import { missingOrders, type Rig, sql, startRig } from '../integration/helpers.js';
import { ackWriter, killAndRestartCluster, cuttableProxy, faultAt, sleep } from './fault-kit.js';


describe('infrastructure faults (durable clusters, a writer recording acknowledgements)', () => {
  let rig: Rig;
  const directUrl = (side: Side, user: 'app' | 'admin') => {
    const cluster = side === 'blue' ? rig.sandbox.blue : rig.sandbox.green;
    return user === 'admin' ? (side === 'blue' ? rig.sandbox.blueUrl : rig.sandbox.greenUrl) : `postgres://${rig.sandbox.appUser}:${encodeURIComponent(rig.sandbox.appPassword)}@127.0.0.1:${cluster.port}/${rig.sandbox.database}`;
  };
  /** Kills PgBouncer with SIGKILL (no shutdown of its own) and starts it again from its ini. */
  const killAndRestartPgbouncer = async () => {
    const pid = Number(readFileSync(rig.sandbox.pgbouncer.pidFile, 'utf8').trim());
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
        await sleep(20);
      } catch {
        break;
      }
    }
    if (existsSync(rig.sandbox.pgbouncer.pidFile)) rmSync(rig.sandbox.pgbouncer.pidFile);
    await restartPgbouncer(rig.sandbox.pgbouncer, rig.sandbox.user);
  };
  const crashAndRestart = (cluster: { dataDir: string; binDir: string }) => killAndRestartCluster(cluster, rig.sandbox.user);
  /**
   * Exactly one database serves and takes writes: PgBouncer routes to `side` and is not paused (a write through
   * it lands there), and the application cannot write to the other side.
   */
  const servesExactlyOne = async (side: Side) => {
    const other: Side = side === 'blue' ? 'green' : 'blue';
    const [row] = await sql<{ id: string }>(rig.sandbox.appUrl, `INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'ONE', 'buy', 1) RETURNING id`);
    expect(await sql(directUrl(side, 'admin'), 'SELECT 1 FROM orders WHERE id = $1', [row.id])).toHaveLength(1);
    await expect(sql(directUrl(other, 'app'), `INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'OTHER', 'buy', 1)`)).rejects.toThrow();
  };

  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate', migrations: undefined, switchover: { timeoutMs: 20000 } } });
    expect((await _clone(rig.deps)).error).toBeUndefined();
  });
  afterAll(() => rig?.stop());

  it('PgBouncer killed -9 and restarted inside the pause of a switchover: one side serves, nothing acknowledged is lost, the message says what happened', async () => {
    const writer = ackWriter(rig.sandbox.appUrl);
    await sleep(500);
    const fault = faultAt('Waiting for green to apply', killAndRestartPgbouncer);
    const result = await _switchover({ ...rig.deps, progress: fault.progress });
    await fault.injected();
    await sleep(300);
    const stats = await writer.stop();
    // Forward: PgBouncer's admin connection is opened again; the restarted PgBouncer (not paused, still on
    // blue, which is frozen) takes the new pointer; clients saw errors, not a wait, and the report says so.
    expect(result.error).toBeUndefined();
    expect(result.serving).toBe('green');
    expect(result.steps.find((s) => s.name === 'resume')?.detail).toMatch(/BUT the admin connection to PgBouncer .* was cut inside the pause and opened again \(restarted\?\)/);
    expect(stats.acknowledged.length).toBeGreaterThan(20);
    await servesExactlyOne('green');
    expect(await missingOrders(directUrl('green', 'admin'), stats.acknowledged)).toEqual([]);
    expect((await _status(rig.deps)).phase).toBe('switched-over');
  });
  it('PgBouncer killed -9 and restarted during the window: status tells the truth, and the next rollback works', async () => {
    const writer = ackWriter(rig.sandbox.appUrl);
    await sleep(300);
    await killAndRestartPgbouncer();
    await sleep(500);
    const status = await _status(rig.deps);
    expect(status).toMatchObject({ phase: 'switched-over', serving: 'green' });
    expect(status.replication.find((r) => r.direction === 'green → blue')).toMatchObject({ running: true });
    const result = await _rollback(rig.deps);
    await sleep(300);
    const stats = await writer.stop();
    expect(result.error).toBeUndefined();
    expect(result.serving).toBe('blue');
    expect(stats.acknowledged.length).toBeGreaterThan(20);
    await servesExactlyOne('blue');
    expect(await missingOrders(directUrl('blue', 'admin'), stats.acknowledged)).toEqual([]);
  });

  it("blue killed -9 (every process) and restarted inside the pause: one side serves, nothing acknowledged is lost, the message says what to do", async () => {
    const writer = ackWriter(rig.sandbox.appUrl);
    await sleep(500);
    const fault = faultAt('Freezing writes on blue', () => crashAndRestart(rig.sandbox.blue));
    const result = await _switchover({ ...rig.deps, progress: fault.progress });
    await fault.injected();
    await sleep(300);
    const stats = await writer.stop();
    // Blue's sessions died with it: the undo waits for blue to answer again and is redone on new sessions.
    expect(result.error?.message).toMatch(/^switchover aborted at [a-z-]+, and its undo was redone on new sessions \(\d undo steps? failed on the flip's own: a side restarted or a connection was cut\); every undo is now done: /);
    expect(result.error?.hint).toMatch(/blue still serves; nothing was lost\. Replication blue → green keeps running\. Retry `bluegreen switchover`/);
    expect(result.serving).toBe('blue');
    expect((await _status(rig.deps)).phase).toBe('ready');
    expect(stats.acknowledged.length).toBeGreaterThan(20);
    await servesExactlyOne('blue');
    expect(await missingOrders(directUrl('blue', 'admin'), stats.acknowledged)).toEqual([]);
    // The retry it advises works, and green has every acknowledged write.
    const again = await _switchover(rig.deps);
    expect(again.error).toBeUndefined();
    await servesExactlyOne('green');
    expect(await missingOrders(directUrl('green', 'admin'), stats.acknowledged)).toEqual([]);
  });
  it("the controller's connection to green cut inside the pause (rollback, then switchover): each is undone on new sessions once green answers; one side serves; nothing acknowledged is lost", async () => {
    // The controller reaches green through the proxy; the subscriptions (peer) and PgBouncer (pooler) use green's own address.
    const proxy = await cuttableProxy(rig.sandbox.green.port);
    try {
      const json = JSON.parse(readFileSync(rig.configFile, 'utf8'));
      const direct = json.green as string;
      json.green = { url: direct.replace(`:${rig.sandbox.green.port}/`, `:${proxy.port}/`), peer: direct, pooler: `127.0.0.1:${rig.sandbox.green.port}` };
      const deps = createDeps(parseConfig(JSON.stringify(json), rig.configFile, rig.env), silentProgress);
      for (const [flip, title, from] of [[_rollback, 'Freezing writes on green', 'green'], [_switchover, 'Waiting for green to apply', 'blue']] as const) {
        const writer = ackWriter(rig.sandbox.appUrl);
        await sleep(500);
        const fault = faultAt(title, async () => proxy.cut(1500));
        const result = await flip({ ...deps, progress: fault.progress });
        await sleep(300);
        const stats = await writer.stop();
        const direction = flip === _rollback ? 'rollback' : 'switchover';
        expect(result.error?.message).toMatch(new RegExp(`^${direction} aborted at [a-z-]+, and its undo was redone on new sessions`));
        expect(result.error?.hint).toMatch(new RegExp(`${from} still serves; nothing was lost`));
        expect(result.serving).toBe(from);
        expect((await _status(deps)).phase).toBe(from === 'green' ? 'switched-over' : 'ready');
        expect(stats.acknowledged.length).toBeGreaterThan(20);
        await servesExactlyOne(from);
        expect(await missingOrders(directUrl(from, 'admin'), stats.acknowledged)).toEqual([]);
        // The retry works.
        const again = await flip(deps);
        expect(again.error).toBeUndefined();
        const to = from === 'green' ? 'blue' : 'green';
        await servesExactlyOne(to);
        expect(await missingOrders(directUrl(to, 'admin'), stats.acknowledged)).toEqual([]);
      }
    } finally {
      await proxy.close();
    }
  });
  it('a slot invalidated by max_slot_wal_keep_size in the window: status says the rollback is no longer lossless and why; the rollback refuses before pausing; reseed makes it lossless again', async () => {
    let acknowledged: number[] = [];
    expect((await _status(rig.deps)).phase).toBe('switched-over');
    const [{ slot_name: slot }] = await sql<{ slot_name: string }>(rig.sandbox.greenUrl, `SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'bluegreen_rev%'`);
    const [{ subname }] = await sql<{ subname: string }>(rig.sandbox.blueUrl, `SELECT subname FROM pg_subscription WHERE subname LIKE 'bluegreen_rev%'`);
    // Blue stops applying (its worker stopped), green keeps writing WAL past a small limit: the slot is invalidated at a checkpoint.
    // (As an operator would: past the freeze's guard, which only bluegreen's own superuser sessions pass.)
    await sql(rig.sandbox.blueUrl, `SET bluegreen.allow_writes = on; ALTER SUBSCRIPTION ${subname} DISABLE`);
    await sql(rig.sandbox.greenUrl, `ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'`);
    await sql(rig.sandbox.greenUrl, 'SELECT pg_reload_conf()');
    try {
      let walStatus = '';
      for (let i = 0; i < 20 && walStatus !== 'lost'; i++) {
        await sql(rig.sandbox.greenUrl, `SELECT pg_logical_emit_message(false, 'fill', repeat('x', 2 * 1024 * 1024))`);
        await sql(rig.sandbox.greenUrl, 'SELECT pg_switch_wal()');
        await sql(rig.sandbox.greenUrl, 'CHECKPOINT');
        [{ wal_status: walStatus }] = await sql<{ wal_status: string }>(rig.sandbox.greenUrl, 'SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      }
      expect(walStatus).toBe('lost');
      const status = await _status(rig.deps);
      expect(status.replication.find((r) => r.direction === 'green → blue')).toMatchObject({ running: false, walStatus: 'lost' });
      expect(status.advice).toMatch(/^The rollback is no longer lossless: replication green → blue lost WAL it needed \(its slot passed max_slot_wal_keep_size and was invalidated\), so blue lacks writes green took since/);
      // Every machine-readable verdict says the same as the advice: not lossless, and why.
      expect(status.window).toMatchObject({ next: 'rollback', verdict: 'lossy', reason: expect.stringMatching(/^The rollback is no longer lossless: replication green → blue lost WAL/) });
      expect(JSON.parse(JSON.stringify(status)).window.verdict).not.toBe('lossless');
      expect(toPrometheus(status)).toMatch(/^bluegreen_next_flip_lossless 0$/m);
      expect(toPrometheus(status)).toMatch(/^bluegreen_next_flip_replication_lost 1$/m);
      const dryRun = await _rollback(rig.deps, { dryRun: true });
      expect(dryRun.steps.find((s) => s.name === 'verdict')?.detail).toMatch(/^WOULD LOSE: The rollback is no longer lossless: replication green → blue lost WAL it needed/);
      expect(dryRun).toMatchObject({ ok: false, error: { exitCode: 3, hint: expect.stringMatching(/`bluegreen reseed`/) } });
      // guard --once --dry-run with a failing check of the operator's: the built-in window check alerts, and it would not roll back.
      const guardConfig = { intervalMs: 1000, checks: [{ name: 'app', command: 'false', timeoutMs: 5000 }], rollbackAfter: { failures: 1 }, allowDataLoss: true };
      const round = await guard({ ...rig.deps, config: { ...rig.deps.config, guard: guardConfig } }, { once: true, dryRun: true });
      expect(round.last?.checks.find((c) => c.name === 'window')).toMatchObject({ ok: false, detail: expect.stringMatching(/^The rollback is no longer lossless/) });
      expect(round.verdict).toBe('refused');
      expect(round.detail).not.toMatch(/would roll back/);
      const writer = ackWriter(rig.sandbox.appUrl);
      await sleep(300);
      const result = await _rollback(rig.deps);
      await sleep(300);
      const stats = await writer.stop();
      expect(result.error?.message).toMatch(/^rollback aborted at guardrails: The rollback is no longer lossless/);
      expect(result.error?.exitCode).toBe(3);
      // Retrying cannot help and replication does not keep running: the hint says the way out.
      expect(result.error?.hint).toMatch(/run `bluegreen reseed` to rebuild it, then `bluegreen rollback`/);
      expect(result.error?.hint).not.toMatch(/keeps running|Retry `bluegreen rollback`/);
      expect(result.steps.find((s) => s.name === 'pause')).toMatchObject({ status: 'skipped', detail: 'not reached' });
      expect(stats.refused).toBe(0);
      await servesExactlyOne('green');
      expect(await missingOrders(directUrl('green', 'admin'), stats.acknowledged)).toEqual([]);
      acknowledged = stats.acknowledged;
    } finally {
      await sql(rig.sandbox.greenUrl, 'ALTER SYSTEM RESET max_slot_wal_keep_size');
      await sql(rig.sandbox.greenUrl, 'SELECT pg_reload_conf()');
    }
    // The documented way back: green → blue built again from green, under load; then the rollback is lossless.
    const writer = ackWriter(rig.sandbox.appUrl);
    await sleep(300);
    const reseed = await _reseed(rig.deps);
    expect(reseed.error).toBeUndefined();
    expect(reseed.steps.map((s) => `${s.name}:${s.status}`)).toEqual([
      'check-link:ok',
      'drop-old-link:ok',
      'publish:ok',
      'empty-standby:ok',
      'subscribe-with-copy:ok',
      'copy-tables:ok',
    ]);
    const reseeded = await _status(rig.deps);
    expect(reseeded.advice).not.toMatch(/no longer lossless/);
    expect(reseeded.window).toMatchObject({ next: 'rollback', verdict: 'lossless' });
    expect(reseeded.window?.reason).toBeUndefined();
    expect(toPrometheus(reseeded)).toMatch(/^bluegreen_next_flip_lossless 1$/m);
    const dryRunAfter = await _rollback(rig.deps, { dryRun: true });
    expect(dryRunAfter).toMatchObject({ ok: true });
    expect(dryRunAfter.steps.find((s) => s.name === 'verdict')?.detail).toMatch(/^lossless/);
    // A second reseed has nothing to do, and says so (exit 3).
    await expect(_reseed(rig.deps)).resolves.toMatchObject({ ok: false, error: { exitCode: 3 } });
    const result = await _rollback(rig.deps);
    await sleep(300);
    const stats = await writer.stop();
    expect(result.error).toBeUndefined();
    expect(stats.acknowledged.length).toBeGreaterThan(20);
    await servesExactlyOne('blue');
    expect(await missingOrders(directUrl('blue', 'admin'), [...acknowledged, ...stats.acknowledged])).toEqual([]);
  });
});
