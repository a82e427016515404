/**
 * The guard on real, durable clusters (fsync on), a writer through PgBouncer recording every
 * acknowledged order throughout: a health endpoint, a SQL query and a command each make it roll back
 * once their condition holds, every acknowledged write then on blue; a flapping check below the
 * condition does nothing; a lossy window is notified, not acted on; two guards act once between them;
 * the built CLI's guard killed mid-evaluation and started again acts once; `--once` exit codes.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { type Deps } from '../../src/commands/context.js';
import { guard } from '../../src/commands/guard.js';
import { _report } from '../../src/commands/report.js';
import { _status } from '../../src/commands/status.js';
import { toPrometheus } from '../../src/core/prometheus.js';
import { _switchover } from '../../src/commands/switchover.js';
import type { GuardConfig } from '../../src/core/config.js';
import { readGuardRounds } from '../../src/adapters/guard-log.js';
import { LOCK_NAMESPACE, LockKey } from '../../src/adapters/pg.js';
import pg from 'pg';
import { readAudit } from '../../src/adapters/state-store.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { bluegreen, CLI } from '../e2e/run-cli.js';
import { missingOrders, type Rig, sql, startRig } from './helpers.js';

const INTERVAL_MS = 200;

/** A health endpoint whose answer the test sets: 200, 500, or alternating. */
function healthServer() {
  let mode: 'ok' | 'fail' | 'flap' | 'slow-fail' = 'ok';
  let requests = 0;
  let onRequest: { n: number; run: () => void } | undefined;
  const server = http.createServer((_req, res) => {
    requests++;
    if (onRequest && requests >= onRequest.n) {
      onRequest.run();
      onRequest = undefined;
    }
    const fail = mode === 'fail' || mode === 'slow-fail' || (mode === 'flap' && requests % 3 === 0);
    setTimeout(() => res.writeHead(fail ? 500 : 200).end(fail ? 'down' : 'ok'), mode === 'slow-fail' ? 400 : 0);
  });
  return {
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/health`))),
    set: (m: typeof mode) => void (mode = m),
    /** Runs `run` as the `n`-th request from now arrives, before it is answered. */
    onRequest: (n: number, run: () => void) => void (onRequest = { n: requests + n, run }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('bluegreen guard: the window rolls itself back on the application\'s health, losslessly', () => {
  let rig: Rig;
  let load: ReturnType<typeof startWriteLoad>;
  const health = healthServer();
  let url: string;
  const notifyLog = () => (existsSync(path.join(rig.dir, 'notify.log')) ? readFileSync(path.join(rig.dir, 'notify.log'), 'utf8') : '');
  const withGuard = (g: Partial<GuardConfig>): Deps => ({ ...rig.deps, config: { ...rig.config, guard: { intervalMs: INTERVAL_MS, checks: [], rollbackAfter: { failures: 3 }, allowDataLoss: false, ...g } } });
  const phase = async () => (await rig.deps.store.load())!.phase;
  const rollbacks = async () => (await rig.deps.store.load())!.flips.filter((f) => f.kind === 'rollback' && f.ok).length;
  async function switchover() {
    if ((await phase()) === 'switched-over') return;
    const r = await _switchover(rig.deps);
    expect(r.error).toBeUndefined();
  }
  async function noWriteLost() {
    await new Promise((r) => setTimeout(r, 300));
    expect(await missingOrders(rig.sandbox.blueUrl, load.acknowledged())).toEqual([]);
  }
  /** Runs the guard in-process until it acts or `ms` pass. */
  async function guardFor(deps: Deps, ms: number, options: { exitAfterAction?: boolean } = { exitAfterAction: true }) {
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), ms);
    try {
      return await guard(deps, { ...options, signal: stop.signal });
    } finally {
      clearTimeout(timer);
    }
  }

  beforeAll(async () => {
    url = await health.listen();
    // Durable clusters: this file asserts that acknowledged writes survive the guard's rollback.
    rig = await startRig({ fast: false, config: { mode: 'replicate', notify: { command: 'cat >> notify.log; echo >> notify.log' } } });
    load = startWriteLoad(rig.sandbox.appUrl, 50, 1);
    expect((await _clone(rig.deps)).ok).toBe(true);
    await switchover();
  });
  afterAll(async () => {
    await load?.stop();
    await health.close();
    await rig?.stop();
  });

  it('a flapping check below the condition causes no rollback', async () => {
    health.set('flap'); // fails one request in three: never three in a row
    const r = await guardFor(withGuard({ checks: [{ name: 'web', url, timeoutMs: 1000 }] }), 12 * INTERVAL_MS, {});
    expect(r.ok).toBe(true);
    expect(r.rounds).toBeGreaterThanOrEqual(6);
    expect(await phase()).toBe('switched-over');
    const rounds = readGuardRounds(rig.config.stateDir, (await rig.deps.store.load())!.id);
    expect(rounds.some((x) => x.decision === 'failing')).toBe(true);
    expect(rounds.every((x) => x.decision !== 'rolled-back' && x.failures < 3)).toBe(true);
    // Status shows the guard: its last round, the failures counted, the condition.
    expect((await _status(rig.deps)).guard).toMatchObject({ last: { checks: expect.arrayContaining([expect.objectContaining({ name: 'web' })]) } });
  });

  it('a health endpoint failing after the switchover: rolled back within interval × failures plus the rollback, every acknowledged write on blue', async () => {
    health.set('ok');
    const deps = withGuard({ checks: [{ name: 'web', url, timeoutMs: 1000 }] });
    const running = guardFor(deps, 60_000);
    await new Promise((r) => setTimeout(r, 3 * INTERVAL_MS));
    const failingSince = performance.now();
    health.set('fail');
    const r = await running;
    const elapsed = performance.now() - failingSince;
    expect(r.verdict, r.detail).toBe('rolled-back');
    const state = (await rig.deps.store.load())!;
    expect(state.phase).toBe('rolled-back');
    const flip = state.flips.at(-1)!;
    expect(flip.by).toMatch(/^guard /);
    const rollbackMs = flip.steps.reduce((n, s) => n + s.ms, 0);
    // Each round's own checks (the URL, replication, the window's verdict reading both schemas) take time
    // too, and on a loaded 2-core machine a round can take a second or more: slack for one such round.
    console.log(`guard: rolled back ${Math.round(elapsed)} ms after the endpoint started failing (interval ${INTERVAL_MS} ms × 3, rollback steps ${rollbackMs} ms)`);
    expect(elapsed).toBeLessThan(INTERVAL_MS * 3 + rollbackMs + 2500);
    await noWriteLost();
    expect(notifyLog()).toMatch(/"type":"guard\.failing"/);
    expect(notifyLog()).toMatch(/"type":"guard\.rolled-back"/);
    expect(readAudit(rig.config.stateDir, state.id).some((e) => e.command === 'guard' && e.outcome === 'rolled-back')).toBe(true);
    health.set('ok');
  });

  it('a sql check triggers it; two guards at once roll back once between them', async () => {
    await switchover();
    await sql(rig.sandbox.appUrl, `INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'SQLFAIL', 'buy', 1)`);
    const deps = withGuard({ checks: [{ name: 'errors', sql: `select not exists (select 1 from orders where symbol = 'SQLFAIL')`, timeoutMs: 2000 }], rollbackAfter: { failures: 1 } });
    const before = await rollbacks();
    const [a, b] = await Promise.all([guard(deps, { once: true }), guard(deps, { once: true })]);
    expect([a.verdict, b.verdict].sort()).toEqual(['deferred', 'rolled-back']);
    expect(await rollbacks()).toBe(before + 1);
    await noWriteLost();
    await sql(rig.sandbox.appUrl, `DELETE FROM orders WHERE symbol = 'SQLFAIL'`);
  });

  it('a command check triggers it, with a ratio within a period', async () => {
    await switchover();
    const flag = path.join(rig.dir, 'unhealthy.flag');
    writeFileSync(flag, '');
    const deps = withGuard({ checks: [{ name: 'api', command: 'test ! -f unhealthy.flag', timeoutMs: 2000 }], rollbackAfter: { ratio: 0.5, withinMs: 60_000 } });
    const r = await guardFor(deps, 30_000);
    rmSync(flag);
    expect(r.verdict, r.detail).toBe('rolled-back');
    expect(r.last?.detail).toMatch(/1 of 1 check failed/);
    await noWriteLost();
  });

  it('the built CLI\'s guard, killed mid-evaluation and started again, carries on from its rounds and acts once', { timeout: 60_000 }, async () => {
    await switchover();
    const config = JSON.parse(readFileSync(rig.configFile, 'utf8'));
    const file = path.join(rig.dir, 'guard.config.json');
    writeFileSync(file, JSON.stringify({ ...config, guard: { interval: `${INTERVAL_MS}ms`, checks: [{ name: 'web', url, timeoutMs: 2000 }], rollbackAfter: { failures: 3 } } }));
    const id = (await rig.deps.store.load())!.id;
    const before = await rollbacks();
    const startedAt = new Date().toISOString();
    const kept = () => readGuardRounds(rig.config.stateDir, id).filter((x) => x.at >= startedAt);
    health.set('slow-fail');
    // Killed while the third round waits for the endpoint's answer: two rounds kept, the third not.
    const killed = new Promise<void>((resolve) => health.onRequest(3, () => resolve(void child.kill('SIGKILL'))));
    const child = spawn('node', [CLI, 'guard', '--config', file], { env: { ...process.env, ...rig.env, CI: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    await Promise.race([killed, exited]);
    await exited;
    expect(child.signalCode, stderr).toBe('SIGKILL');
    expect(kept()).toHaveLength(2);
    expect(await phase()).toBe('switched-over');
    const again = await bluegreen(['guard', '--config', file, '--exit-after-action'], { env: rig.env });
    expect(again.exitCode, again.stderr).toBe(4);
    // It counted the two rounds kept before the kill: one more failure was the third.
    expect(kept()).toHaveLength(3);
    expect(await rollbacks()).toBe(before + 1);
    const once = await bluegreen(['guard', '--config', file, '--once'], { env: rig.env });
    expect(once.exitCode).toBe(2); // nothing to guard: blue serves
    expect(await rollbacks()).toBe(before + 1);
    health.set('ok');
    await noWriteLost();
  });

  it('--once exits with its verdict: 0 healthy, 1 failing, 3 refused on a lossy window (notified, not acted on) or deferred to a person\'s command', async () => {
    await switchover();
    const config = JSON.parse(readFileSync(rig.configFile, 'utf8'));
    const file = path.join(rig.dir, 'once.config.json');
    writeFileSync(file, JSON.stringify({ ...config, guard: { interval: '1s', checks: [{ name: 'web', url }], rollbackAfter: { failures: 2 } } }));
    const once = () => bluegreen(['guard', '--config', file, '--once', '--json'], { env: rig.env });
    health.set('ok');
    expect((await once()).exitCode).toBe(0);
    health.set('fail');
    const failing = await once();
    expect(failing.exitCode).toBe(1);
    expect(JSON.parse(failing.stdout)).toMatchObject({ verdict: 'failing', last: { failures: 1, condition: false } });
    // A table on green without a primary key: a rollback would leave its rows behind.
    await sql(rig.sandbox.greenUrl, `CREATE TABLE guard_no_key (x int); INSERT INTO guard_no_key VALUES (1)`);
    const refused = await once();
    expect(refused.exitCode, refused.stderr).toBe(3);
    expect(JSON.parse(refused.stdout)).toMatchObject({ verdict: 'refused', detail: expect.stringContaining('guard_no_key') });
    expect(await phase()).toBe('switched-over');
    expect(notifyLog()).toMatch(/"type":"guard\.refused"/);
    const dry = await bluegreen(['guard', '--config', file, '--once', '--dry-run'], { env: rig.env });
    expect(dry.exitCode).toBe(3);
    await sql(rig.sandbox.greenUrl, `DROP TABLE guard_no_key`);
    const wouldAct = await bluegreen(['guard', '--config', file, '--once', '--dry-run'], { env: rig.env });
    expect(wouldAct.stdout).toMatch(/would roll back/);
    expect(wouldAct.exitCode).toBe(1);
    // A person's command in flight (holding the controller lock) wins: the guard defers, exit 3.
    const person = new pg.Client({ connectionString: rig.sandbox.blueUrl });
    await person.connect();
    try {
      await person.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, LockKey.controller]);
      const deferred = await once();
      expect(deferred.exitCode, deferred.stderr).toBe(3);
      expect(JSON.parse(deferred.stdout)).toMatchObject({ verdict: 'deferred', detail: expect.stringContaining('another bluegreen controller is running') });
    } finally {
      await person.end();
    }
    expect(await phase()).toBe('switched-over');
    health.set('ok');
    expect(await missingOrders(rig.sandbox.greenUrl, load.acknowledged())).toEqual([]);
  });

  it('the report shows the guard\'s checks over time and the rollbacks it made; Prometheus its last round', async () => {
    const out = path.join(rig.dir, 'report.html');
    const { data } = await _report(rig.deps, { out });
    expect(data.guard!.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['web', 'errors', 'api', 'replication', 'window']));
    expect(data.guard!.decisions.filter((d) => d.decision === 'rolled-back')).toHaveLength(4);
    expect(data.guard!.decisions.some((d) => d.decision === 'refused')).toBe(true);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('id="guard-chart"');
    expect(html).toMatch(/rolled-back<\/td><td>guard /);
    const prom = toPrometheus(await _status(rig.deps));
    expect(prom).toMatch(/^bluegreen_guard_check_ok\{check="web"\} [01]$/m);
    expect(prom).toMatch(/^bluegreen_guard_failures \d+$/m);
  });
});
