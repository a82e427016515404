#!/usr/bin/env node
// Write pause of a replicate-mode switchover and rollback, measured from the client side by pgbench
// (a client no one here wrote) at a fixed rate through PgBouncer, at two database sizes, side by side
// with two baselines on the same sandbox: the same load with no flip, and PgBouncer's bare
// PAUSE → RELOAD → RESUME. Durable settings (fsync on). Usage:
//   npm run bench:pause -- [--scales 2,12] [--rate 500] [--seconds 14]
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { startSandbox } from '../../dist/sandbox/sandbox.js';
import { seedTradingApp } from '../../dist/sandbox/trading-app.js';
import { parseConfig } from '../../dist/core/config.js';
import { createDeps } from '../../dist/commands/context.js';
import { silentProgress } from '../../dist/adapters/progress.js';
import { _clone } from '../../dist/commands/clone.js';
import { _migrate } from '../../dist/commands/migrate.js';
import { _rollback, _switchover } from '../../dist/commands/switchover.js';
import { findTool } from '../../dist/adapters/pg-binaries.js';
import { DEMO_MIGRATIONS } from '../../dist/sandbox/demo.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const scales = arg('scales', '2,12').split(',').map(Number);
const rate = Number(arg('rate', '500'));
const seconds = Number(arg('seconds', '14'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function q(url, sql, params = []) {
  const c = new pg.Client(url);
  await c.connect();
  try { return (await c.query(sql, params)).rows; } finally { await c.end(); }
}

/** Runs pgbench through PgBouncer; returns per-transaction (start ms, latency ms) and the summary. */
function pgbench(sb, dir, tag) {
  const script = path.join(dir, 'insert.sql');
  writeFileSync(script, `INSERT INTO orders (account_id, symbol, side, quantity, limit_price) VALUES (1 + (random() * 999)::int, 'PGB', 'buy', 1, 100);\n`);
  const prefix = path.join(dir, `pgbench-${tag}`);
  const child = execa(findTool('pgbench', 15), ['-n', '-h', '127.0.0.1', '-p', String(sb.pgbouncer.port), '-U', sb.appUser, '-c', '8', '-j', '2',
    '-R', String(rate), '-T', String(seconds), '-f', script, '-l', `--log-prefix=${prefix}`, sb.database], { env: { PGPASSWORD: sb.appPassword }, reject: false, all: true });
  return {
    async done() {
      const r = await child;
      const tx = [];
      for (const f of readdirSync(dir).filter((f) => f.startsWith(path.basename(prefix)))) {
        for (const line of readFileSync(path.join(dir, f), 'utf8').trim().split('\n')) {
          const cols = line.split(' ');
          // client_id transaction_no time script_no time_epoch time_us [schedule_lag]
          const latencyMs = Number(cols[2]) / 1000;
          const endMs = Number(cols[4]) * 1000 + Number(cols[5]) / 1000;
          tx.push({ start: endMs - latencyMs, latencyMs });
        }
        rmSync(path.join(dir, f));
      }
      const failed = Number(/number of failed transactions: (\d+)/.exec(r.all)?.[1] ?? (r.exitCode === 0 ? 0 : NaN));
      const processed = Number(/number of transactions actually processed: (\d+)/.exec(r.all)?.[1] ?? NaN);
      return { tx, failed, processed, exitCode: r.exitCode, output: r.all };
    },
  };
}

const maxIn = (tx, from, to) => tx.filter((t) => t.start + t.latencyMs >= from && t.start <= to).reduce((m, t) => Math.max(m, t.latencyMs), 0);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rows = [];
for (const scale of scales) {
  const sb = await startSandbox({ fast: false });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bluegreen-pause-'));
  try {
    await seedTradingApp(sb.blueUrl, scale, sb.appUser);
    const [{ size }] = await q(sb.blueUrl, `SELECT pg_database_size('app')::bigint AS size`);
    const mb = Number(size) / 1048576;
    const cfg = { blue: sb.blueUrl, green: sb.greenUrl, mode: 'replicate', migrations: { dir: DEMO_MIGRATIONS },
      pointer: { type: 'pgbouncer', admin: sb.adminUrl, ini: sb.pgbouncer.ini, database: 'app' }, stateDir: path.join(dir, 'state') };
    const deps = createDeps(parseConfig(JSON.stringify(cfg), path.join(dir, 'c.json'), {}), silentProgress);
    if (!(await _clone(deps)).ok) throw new Error('clone failed');
    await _migrate(deps);

    // Baseline 1: the same load, nothing happening.
    const base = await pgbench(sb, dir, 'base').done();
    const baseMax = base.tx.reduce((m, t) => Math.max(m, t.latencyMs), 0);

    // Baseline 2: PgBouncer's own PAUSE → RELOAD → RESUME under the same load, no database work.
    const raw = pgbench(sb, dir, 'raw');
    await sleep(3000);
    const admin = new pg.Client(sb.adminUrl); await admin.connect();
    const rawStart = Date.now();
    await admin.query('PAUSE app'); await admin.query('RELOAD'); await admin.query('RESUME app');
    const rawPause = Date.now() - rawStart;
    await admin.end();
    const rawRun = await raw.done();
    const rawMax = maxIn(rawRun.tx, rawStart - 50, rawStart + rawPause + 50);

    // Ours: a switchover, then a rollback, under the load.
    const bench = pgbench(sb, dir, 'flip');
    await sleep(3000);
    const s0 = Date.now(); const sw = await _switchover(deps); const s1 = Date.now();
    if (!sw.ok) throw new Error(`switchover failed: ${sw.error?.message}`);
    await sleep(3000);
    const r0 = Date.now(); const rb = await _rollback(deps); const r1 = Date.now();
    if (!rb.ok) throw new Error(`rollback failed: ${rb.error?.message}`);
    const run = await bench.done();
    const [{ n }] = await q(sb.blueUrl, `SELECT count(*)::int AS n FROM orders WHERE symbol = 'PGB'`);
    const expected = base.processed + rawRun.processed + run.processed;
    rows.push({
      mb, switchoverPause: sw.writePauseMs, rollbackPause: rb.writePauseMs,
      switchoverMax: maxIn(run.tx, s0, s1), rollbackMax: maxIn(run.tx, r0, r1),
      baseMax, rawPause, rawMax, failed: base.failed + rawRun.failed + run.failed, lost: expected - n,
      medianLatency: median(run.tx.map((t) => t.latencyMs)), tps: run.processed / seconds,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await sb.stop();
  }
}

const f = (x) => x.toFixed(1);
console.log(`\nReplicate-mode write pause under pgbench -R ${rate} through PgBouncer (${os.cpus().length} cores, PostgreSQL 15, fsync on)\n`);
console.log('| database | tool-measured pause: switchover / rollback | longest pgbench wait during switchover / rollback | same load, no flip: longest wait | bare PAUSE→RELOAD→RESUME: pause / longest wait | failed tx | lost writes | tx/s |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${f(r.mb)} MB | ${r.switchoverPause} / ${r.rollbackPause} ms | ${f(r.switchoverMax)} / ${f(r.rollbackMax)} ms | ${f(r.baseMax)} ms | ${r.rawPause} / ${f(r.rawMax)} ms | ${r.failed} | ${r.lost} | ${f(r.tps)} |`);
}
if (rows.length > 1) {
  const [small, large] = [rows[0], rows[rows.length - 1]];
  console.log(`\nlargest / smallest database: longest switchover wait ${f(large.switchoverMax / small.switchoverMax)}x, rollback ${f(large.rollbackMax / small.rollbackMax)}x (database ${f(large.mb / small.mb)}x larger)`);
}
console.log(`ours / bare PgBouncer flip (longest wait): ${rows.map((r) => f(Math.max(r.switchoverMax, r.rollbackMax) / Math.max(r.rawMax, 1))).join(', ')}`);
