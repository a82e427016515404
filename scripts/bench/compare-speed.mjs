#!/usr/bin/env node
// Speed of content verification against what an operator would run instead, in one run on one
// sandbox (freeze-mode clone of the demo schema, fsync on), each approach over every table on both
// sides at once: exact counts; the plain content hash sum(hashtextextended(t::text, 0)); an ordered md5
// of every row; and bluegreen compare (content, schema diff, integrity). Usage:
//   npm run bench:compare -- [--scale 60] [--runs 3]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startSandbox } from '../../dist/sandbox/sandbox.js';
import { seedTradingApp } from '../../dist/sandbox/trading-app.js';
import { parseConfig } from '../../dist/core/config.js';
import { createDeps } from '../../dist/commands/context.js';
import { silentProgress } from '../../dist/adapters/progress.js';
import { _clone } from '../../dist/commands/clone.js';
import { _compare } from '../../dist/commands/compare.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const scale = arg('scale', 60);
const runs = arg('runs', 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const TABLES = ['users', 'accounts', 'positions', 'orders', 'trades', 'api_keys'];

const sb = await startSandbox({ fast: false });
const dir = mkdtempSync(path.join(os.tmpdir(), 'bluegreen-cmp-'));
try {
  await seedTradingApp(sb.blueUrl, scale, sb.appUser);
  const cfg = { blue: sb.blueUrl, green: sb.greenUrl, mode: 'freeze', pointer: { type: 'pgbouncer', admin: sb.adminUrl, ini: sb.pgbouncer.ini, database: 'app' }, stateDir: path.join(dir, 'state') };
  const deps = createDeps(parseConfig(JSON.stringify(cfg), path.join(dir, 'c.json'), {}), silentProgress);
  if (!(await _clone(deps)).ok) throw new Error('clone failed');
  const clients = await Promise.all([sb.blueUrl, sb.greenUrl].map(async (u) => { const c = new pg.Client(u); await c.connect(); await c.query('VACUUM ANALYZE'); return c; }));
  const [{ size }] = (await clients[0].query(`SELECT pg_database_size('app')::bigint AS size`)).rows;
  const bothSides = (sqlFor) => async () => {
    await Promise.all(clients.map(async (c) => { for (const t of TABLES) await c.query(sqlFor(t)); }));
  };
  const approaches = {
    'exact count(*)': bothSides((t) => `SELECT count(*) FROM ${t}`),
    'plain content hash: sum(hashtextextended(t::text, 0)), count(*)': bothSides((t) => `SELECT sum(hashtextextended(x::text, 0)), count(*) FROM ${t} x`),
    'ordered md5 of every row': bothSides((t) => `SELECT md5(string_agg(x::text, '' ORDER BY id)) FROM ${t} x`),
    'bluegreen compare (content + schema + integrity)': async () => {
      const r = await _compare(deps);
      if (!r.ok) throw new Error('compare found differences');
      phases.push(r.phasesMs);
    },
  };
  const phases = [];
  const times = Object.fromEntries(Object.keys(approaches).map((k) => [k, []]));
  for (let r = 0; r < runs; r++) for (const [k, run] of Object.entries(approaches)) { const t = performance.now(); await run(); times[k].push((performance.now() - t) / 1000); }
  const plain = median(times['plain content hash: sum(hashtextextended(t::text, 0)), count(*)']);
  console.log(`\n${(Number(size) / 1048576).toFixed(0)} MB per side (scale ${scale}), ${os.cpus().length} cores, PostgreSQL 15, fsync on, median of ${runs} interleaved runs\n`);
  console.log('| approach | median s | vs plain content hash | finds which row differs |\n|---|---|---|---|');
  for (const [k, xs] of Object.entries(times)) {
    const m = median(xs);
    console.log(`| ${k} | ${m.toFixed(2)} | ${(m / plain).toFixed(2)}x | ${k.startsWith('bluegreen') ? 'yes, by key and column' : k.startsWith('exact') ? 'no (and misses changed values)' : 'no'} |`);
  }
  const phase = (k) => median(phases.map((p) => p[k])) / 1000;
  console.log(`| bluegreen compare, content verification alone (phase time inside the run above) | ${phase('content').toFixed(2)} | ${(phase('content') / plain).toFixed(2)}x | yes, by key and column |`);
  console.log(`\nbluegreen compare's other phases (median): schema diff ${phase('schema').toFixed(2)} s, integrity checks on green ${phase('integrity').toFixed(2)} s`);
  await Promise.all(clients.map((c) => c.end()));
} finally {
  rmSync(dir, { recursive: true, force: true });
  await sb.stop();
}
