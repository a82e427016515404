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
    // Last in each round, so the sections after this one find green cloned and replicating.
    'bluegreen clone (replicate mode)': async () => {
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
  await _migrate(deps);
}
