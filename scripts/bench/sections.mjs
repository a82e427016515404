// The benchmark's sections; each returns rows for the report. See run.mjs.
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { _abort } from '../../dist/commands/abort.js';
import { _clone } from '../../dist/commands/clone.js';
import { _compare } from '../../dist/commands/compare.js';
import { _migrate } from '../../dist/commands/migrate.js';
import { _rollback, _switchover } from '../../dist/commands/switchover.js';
import { beatHeartbeat, slotLag, waitForHeartbeat } from '../../dist/adapters/replication.js';
import { parseConfig } from '../../dist/core/config.js';
import { createDeps } from '../../dist/commands/context.js';
import { silentProgress } from '../../dist/adapters/progress.js';
import { longestWait, median, pgbench, q, sleep, tool } from './lib.mjs';

const greenAdmin = (sb) => sb.greenUrl.replace(/\/app$/, '/postgres');

/** Green empty again: our replication objects gone, the database dropped and created empty. */
async function freshGreen(sb, deps) {
  const state = await deps.store.load();
  if (state && !['aborted', 'idle', 'finalized'].includes(state.phase)) await _abort(deps);
  // The application's role as on blue (LOGIN, same password): clone keeps a role that exists as it is.
  await q(greenAdmin(sb), `DO $$ BEGIN CREATE ROLE app LOGIN PASSWORD '${sb.appPassword}'; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  await q(greenAdmin(sb), 'DROP DATABASE IF EXISTS app WITH (FORCE)');
  await q(greenAdmin(sb), 'CREATE DATABASE app OWNER app');
  // Every variant starts from quiet servers: the previous one's dirty pages and WAL written out first, not on its successor's clock.
  await Promise.all([q(greenAdmin(sb), 'CHECKPOINT'), q(sb.blueUrl, 'CHECKPOINT')]);
}

const pgEnv = (url) => {
  const u = new URL(url);
  return { PGHOST: u.hostname, PGPORT: u.port, PGUSER: decodeURIComponent(u.username), PGPASSWORD: decodeURIComponent(u.password), PGDATABASE: u.pathname.slice(1) };
};

/** Clone: ours (replicate mode, the command an operator runs) against what they would run instead. */
export async function benchClone({ sb, work, mb }, deps, runs) {
  const blue = pgEnv(sb.blueUrl);
  const green = pgEnv(sb.greenUrl);
  const havePgcopydb = (await execa('pgcopydb', ['--version'], { reject: false })).exitCode === 0;
  if (!havePgcopydb) process.stderr.write('[bench] pgcopydb is not installed (apt-get install -y pgcopydb): that baseline is left out\n');
  const variants = {
    ...(havePgcopydb ? { 'pgcopydb clone (defaults)': async () => {
      await freshGreen(sb, deps);
      const t = performance.now();
      const r = await execa('pgcopydb', ['clone', '--source', sb.blueUrl, '--target', sb.greenUrl, '--dir', path.join(work, 'pgcopydb'), '--restart', '--no-owner'], { reject: false, all: true });
      if (r.exitCode !== 0) throw new Error(`pgcopydb failed: ${r.all.slice(-400)}`);
      return performance.now() - t;
    } } : {}),
    'pg_dump \\| psql': async () => {
      await freshGreen(sb, deps);
      const t = performance.now();
      await execa(`${tool('pg_dump')} | PGHOST=${green.PGHOST} PGPORT=${green.PGPORT} PGPASSWORD='${green.PGPASSWORD}' PGDATABASE=app ${tool('psql')} -q -v ON_ERROR_STOP=1 >/dev/null`, { shell: true, env: blue });
      return performance.now() - t;
    },
    'pg_dump -Fd -j2 + pg_restore -j2': async () => {
      await freshGreen(sb, deps);
      const out = path.join(work, 'dump-fd');
      await execa('rm', ['-rf', out]);
      const t = performance.now();
      await execa(tool('pg_dump'), ['-Fd', '-j2', '-f', out], { env: blue });
      await execa(tool('pg_restore'), ['-j2', '-d', 'app', out], { env: green });
      return performance.now() - t;
    },
    // clone.backup "dump": the whole dump kept on the controller's disk as a backup.
    'bluegreen clone (replicate mode, clone.backup dump)': async () => {
      const dumping = { ...deps, config: { ...deps.config, clone: { backup: 'dump' } } };
      await freshGreen(sb, dumping);
      const t = performance.now();
      const r = await _clone(dumping);
      if (!r.ok) throw new Error(`bluegreen clone (dump) failed: ${r.error?.message}`);
      const ms = performance.now() - t;
      await _abort(dumping);
      return ms;
    },
    // Last in each round, so the sections after this one find green cloned and replicating. Replicate
    // mode's default: the rows stream from blue's snapshot straight into green (clone.backup "none").
    'bluegreen clone (replicate mode, streaming: the default)': async () => {
      await freshGreen(sb, deps);
      const t = performance.now();
      const r = await _clone(deps);
      if (!r.ok) throw new Error(`bluegreen clone failed: ${r.error?.message}`);
      return performance.now() - t;
    },
  };
  const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < runs; r++) for (const [k, run] of Object.entries(variants)) times[k].push((await run()) / 1000);
  const fastestBaseline = Math.min(...Object.entries(times).filter(([k]) => !k.startsWith('bluegreen')).map(([, xs]) => median(xs)));
  return Object.entries(times).map(([approach, xs]) => ({ approach, seconds: median(xs), mbPerSecond: mb / median(xs), vsFastestBaseline: median(xs) / fastestBaseline, runs: xs }));
}

/** Compare: our content verification against counts, the plain content hash and an ordered md5. */
export async function benchCompare({ sb }, deps, runs) {
  const tables = ['users', 'accounts', 'positions', 'orders', 'trades', 'api_keys'];
  const clients = await Promise.all([sb.blueUrl, sb.greenUrl].map(async (u) => { const c = new pg.Client(u); await c.connect(); await c.query('VACUUM ANALYZE'); return c; }));
  const bothSides = (sqlFor) => async () => { await Promise.all(clients.map(async (c) => { for (const t of tables) await c.query(sqlFor(t)); })); };
  const phases = [];
  const approaches = {
    'exact count(*), both sides': bothSides((t) => `SELECT count(*) FROM ${t}`),
    'plain content hash sum(hashtextextended(t::text, 0)), count(*), both sides': bothSides((t) => `SELECT sum(hashtextextended(x::text, 0)), count(*) FROM ${t} x`),
    'ordered md5 of every row, both sides': bothSides((t) => `SELECT md5(string_agg(x::text, '' ORDER BY id)) FROM ${t} x`),
    'bluegreen compare (content, schema, integrity)': async () => {
      const r = await _compare(deps);
      if (!r.ok) throw new Error(`compare found differences: ${JSON.stringify(r.tables.filter((t) => t.status !== 'ok'))}`);
      phases.push(r.phasesMs.content);
    },
  };
  const times = Object.fromEntries(Object.keys(approaches).map((k) => [k, []]));
  try {
    for (let r = 0; r < runs; r++) for (const [k, run] of Object.entries(approaches)) { const t = performance.now(); await run(); times[k].push((performance.now() - t) / 1000); }
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
  times['bluegreen compare: content verification alone'] = phases.map((ms) => ms / 1000);
  const plain = median(times['plain content hash sum(hashtextextended(t::text, 0)), count(*), both sides']);
  return Object.entries(times).map(([approach, xs]) => ({ approach, seconds: median(xs), vsPlainHash: median(xs) / plain, runs: xs }));
}

/** Replication catch-up: a burst of writes straight to blue as fast as they go, then how long green takes to have them all. */
export async function benchCatchup({ sb, work }, deps, { transactions }) {
  const state = await deps.store.load();
  const blue = new pg.Client(sb.blueUrl); const green = new pg.Client(sb.greenUrl);
  await blue.connect(); await green.connect();
  try {
    const script = path.join(work, 'burst.sql');
    (await import('node:fs')).writeFileSync(script, `INSERT INTO orders (account_id, symbol, side, quantity, limit_price) VALUES (1 + (random() * 999)::int, 'BURST', 'sell', 1, 100);\n`);
    const t0 = performance.now();
    await execa(tool('pgbench'), ['-n', '-h', '127.0.0.1', '-p', String(sb.blue.port), '-U', 'postgres', '-c', '4', '-j', '2', '-t', String(Math.ceil(transactions / 4)), '-f', script, 'app'], { env: { PGPASSWORD: sb.blue.password } });
    const burstMs = performance.now() - t0;
    const lagAtEnd = (await slotLag(blue, state.forward.slot)).lagBytes;
    const t1 = performance.now();
    await waitForHeartbeat(green, await beatHeartbeat(blue), performance.now() + 600_000, 'catch-up');
    const catchUpMs = performance.now() - t1;
    return [{ transactions, burstSeconds: burstMs / 1000, blueTps: transactions / (burstMs / 1000), lagBytesAtBurstEnd: lagAtEnd, catchUpSecondsAfterBurst: catchUpMs / 1000, greenApplyTps: transactions / ((burstMs + catchUpMs) / 1000) }];
  } finally {
    await blue.end(); await green.end();
  }
}

/** Write pause: pgbench at a fixed rate through PgBouncer during a switchover and a rollback, beside two baselines. */
export async function benchPause({ sb, work }, deps, { rate, seconds }) {
  const base = await pgbench(sb, work, { tag: 'base', rate, seconds }).done();
  const raw = pgbench(sb, work, { tag: 'raw', rate, seconds });
  await sleep(Math.min(3000, (seconds * 1000) / 3));
  const admin = new pg.Client(sb.adminUrl); await admin.connect();
  const rawStart = Date.now();
  await admin.query('PAUSE app'); await admin.query('RELOAD'); await admin.query('RESUME app');
  const rawPauseMs = Date.now() - rawStart;
  await admin.end();
  const rawRun = await raw.done();
  const run = pgbench(sb, work, { tag: 'flip', rate, seconds });
  await sleep(Math.min(3000, (seconds * 1000) / 4));
  const s0 = Date.now(); const sw = await _switchover(deps); const s1 = Date.now();
  if (!sw.ok) throw new Error(`switchover failed: ${sw.error?.message}`);
  await sleep(Math.min(3000, (seconds * 1000) / 4));
  const r0 = Date.now(); const rb = await _rollback(deps); const r1 = Date.now();
  if (!rb.ok) throw new Error(`rollback failed: ${rb.error?.message}`);
  const flips = await run.done();
  if (process.env.BENCH_DEBUG) process.stderr.write(flips.output);
  const [{ n }] = await q(sb.blueUrl, `SELECT count(*)::int AS n FROM orders WHERE symbol = 'PGB'`);
  const longestNoFlip = longestWait(base.tx);
  return [{
    switchoverPauseMs: sw.writePauseMs,
    rollbackPauseMs: rb.writePauseMs,
    longestWaitSwitchoverMs: longestWait(flips.tx, s0, s1),
    longestWaitRollbackMs: longestWait(flips.tx, r0, r1),
    longestWaitNoFlipMs: longestNoFlip,
    barePgbouncerPauseMs: rawPauseMs,
    longestWaitBarePgbouncerMs: longestWait(rawRun.tx, rawStart - 50, rawStart + rawPauseMs + 50),
    failedTransactions: base.failed + rawRun.failed + flips.failed,
    lostWrites: base.processed + rawRun.processed + flips.processed - n,
    tps: flips.processed / seconds,
  }];
}

export async function prepareForFlips(deps) {
  const migrated = await _migrate(deps);
  if (!migrated.ok) throw new Error(`migrate failed: ${migrated.error?.message}`);
}

/**
 * The write pause against the number of objects and the network between the controller and the
 * servers: one cell per (tables, rtt). Each table has its own sequence. Every connection of the
 * controller, PgBouncer's to the servers and replication's go through a proxy that delays each chunk
 * by half the round trip both ways, so every address agrees. The bare PgBouncer PAUSE → RELOAD →
 * RESUME through the same proxy is measured beside it, and pgbench writes through PgBouncer all along.
 */
export async function benchPauseCell({ tables, rttMs, rate, seconds, pairs = 3 }) {
  const { delayProxy } = await import('./proxy.mjs');
  const { startSandbox } = await import('../../dist/sandbox/sandbox.js');
  const { seedTradingApp } = await import('../../dist/sandbox/trading-app.js');
  const { rewriteTarget } = await import('../../dist/core/pgbouncer-ini.js');
  const sb = await startSandbox({ fast: false });
  const work = (await import('node:fs')).mkdtempSync(path.join((await import('node:os')).tmpdir(), 'bluegreen-grid-'));
  const proxies = [];
  try {
    await seedTradingApp(sb.blueUrl, 0.1, sb.appUser);
    // The extra tables in batches of 200 statements: a schema of N tables, each with its own sequence.
    for (let i = 0; i < tables; i += 200) {
      const batch = Array.from({ length: Math.min(200, tables - i) }, (_, j) => `CREATE TABLE tenant_${i + j} (id bigserial PRIMARY KEY, v int); INSERT INTO tenant_${i + j} (v) VALUES (1);`).join('\n');
      await q(sb.blueUrl, batch);
    }
    await q(sb.blueUrl, 'VACUUM ANALYZE');
    // At 0 ms the controller is on the database host: no proxy at all. Otherwise every connection goes through one,
    // PgBouncer's to blue included (and so do the subscriptions: each side's url, pooler and peer agree).
    const direct = (port) => ({ port, close: async () => undefined });
    const [pBlue, pGreen, pPgb] = rttMs > 0
      ? await Promise.all([delayProxy(sb.blue.port, rttMs), delayProxy(sb.green.port, rttMs), delayProxy(sb.pgbouncer.port, rttMs)])
      : [direct(sb.blue.port), direct(sb.green.port), direct(sb.pgbouncer.port)];
    proxies.push(pBlue, pGreen, pPgb);
    const { readFileSync, writeFileSync } = await import('node:fs');
    if (rttMs > 0) {
      writeFileSync(sb.pgbouncer.ini, rewriteTarget(readFileSync(sb.pgbouncer.ini, 'utf8'), 'app', { host: '127.0.0.1', port: pBlue.port, database: 'app' }));
      const admin = new pg.Client(sb.adminUrl); await admin.connect(); await admin.query('RELOAD'); await admin.end();
    }
    const via = (url, port, real) => url.replace(`:${real}/`, `:${port}/`);
    const side = (url, port, real) => ({ url: via(url, port, real), pooler: `127.0.0.1:${port}`, peer: via(url, port, real) });
    const cfg = {
      blue: side(sb.blueUrl, pBlue.port, sb.blue.port),
      green: side(sb.greenUrl, pGreen.port, sb.green.port),
      mode: 'replicate',
      pointer: { type: 'pgbouncer', admin: via(sb.adminUrl, pPgb.port, sb.pgbouncer.port), ini: sb.pgbouncer.ini, database: 'app' },
      stateDir: path.join(work, 'state'),
      switchover: { timeoutMs: 60000 },
    };
    const deps = createDeps(parseConfig(JSON.stringify(cfg), path.join(work, 'bluegreen.config.json'), {}), silentProgress);
    const clone = await _clone(deps);
    if (!clone.ok) throw new Error(`clone failed: ${clone.error?.message}`);
    // Several switchover/rollback pairs under one pgbench run: single flips on a shared two-core machine vary by 2x.
    const run = pgbench(sb, work, { tag: 'grid', rate, seconds: Math.max(seconds, 3 + pairs * 5) });
    await sleep(1500);
    // The bare pooler pause, through the same network and under the same load (PAUSE waits for transactions in flight).
    const bare = new pg.Client(cfg.pointer.admin); await bare.connect();
    const bares = [];
    for (let i = 0; i < pairs; i++) {
      const b0 = performance.now(); await bare.query('PAUSE app'); await bare.query('RELOAD'); await bare.query('RESUME app'); bares.push(performance.now() - b0);
      await sleep(300);
    }
    await bare.end();
    const flipsDone = { switchover: [], rollback: [] };
    for (let i = 0; i < pairs; i++) {
      const sw = await _switchover(deps);
      if (!sw.ok) throw new Error(`switchover failed: ${sw.error?.message}`);
      flipsDone.switchover.push(sw);
      await sleep(1500);
      const rb = await _rollback(deps);
      if (!rb.ok) throw new Error(`rollback failed: ${rb.error?.message}`);
      flipsDone.rollback.push(rb);
      await sleep(1500);
    }
    const flips = await run.done();
    const [{ n }] = await q(sb.blueUrl, `SELECT count(*)::int AS n FROM orders WHERE symbol = 'PGB'`);
    const IN_PAUSE = ['pause', 'freeze-blue', 'freeze-green', 'drain', 'sync-sequences', 'start-reverse-slot', 'open-green', 'open-blue', 'flip', 'resume'];
    // Each in-pause step's median over the flips of one kind.
    const inPause = (results) => Object.fromEntries(IN_PAUSE.filter((name) => results[0].steps.some((s) => s.name === name)).map((name) => [name, median(results.map((r) => r.steps.find((s) => s.name === name)?.ms ?? 0))]));
    const sw = { writePauseMs: median(flipsDone.switchover.map((r) => r.writePauseMs)) };
    const rb = { writePauseMs: median(flipsDone.rollback.map((r) => r.writePauseMs)) };
    const bareMs = median(bares);
    return {
      tables: tables + 8, rttMs,
      switchoverPauseMs: sw.writePauseMs, rollbackPauseMs: rb.writePauseMs, barePgbouncerMs: Math.round(bareMs),
      pairs, switchoverPausesMs: flipsDone.switchover.map((r) => r.writePauseMs), rollbackPausesMs: flipsDone.rollback.map((r) => r.writePauseMs), barePausesMs: bares.map(Math.round),
      switchoverSteps: inPause(flipsDone.switchover), rollbackSteps: inPause(flipsDone.rollback),
      failedTransactions: flips.failed, lostWrites: flips.processed - n,
    };
  } finally {
    for (const p of proxies) await p.close();
    await sb.stop();
    (await import('node:fs')).rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The controller's peak memory during a streaming clone, measured in a process of its own (its max RSS),
 * with the time of each step: run at two sizes, it shows whether memory stays flat as the database grows.
 */
export async function benchCloneMemory({ sb, work, mb }, deps) {
  const { writeFileSync } = await import('node:fs');
  await freshGreen(sb, deps);
  const file = path.join(work, 'child.config.json');
  writeFileSync(file, JSON.stringify({
    blue: sb.blueUrl, green: sb.greenUrl, mode: 'replicate', clone: { backup: 'none' },
    pointer: { type: 'pgbouncer', admin: sb.adminUrl, ini: sb.pgbouncer.ini, database: 'app' }, stateDir: path.join(work, 'state-child'),
  }));
  const r = await execa(process.execPath, [path.resolve('scripts/bench/clone-child.mjs'), file], { reject: false, all: true });
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1));
  if (!out.ok) throw new Error(`streaming clone failed: ${out.error}`);
  return [{ sizeMb: mb, seconds: out.seconds, maxRssMb: out.maxRssMb, cpuSeconds: out.cpuSeconds, steps: out.steps }];
}
