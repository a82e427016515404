#!/usr/bin/env node
// Measures which pg_dump/pg_restore format and job count clone should use, on this machine, side
// by side in one run: each variant dumps the same seeded blue and restores into a fresh database
// on green. Durable settings (fsync on), unlike the test sandbox. Usage:
//   node scripts/bench/clone-formats.mjs [--scale 30] [--runs 3]
import { rmSync, readdirSync, statSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { startSandbox } from '../../dist/sandbox/sandbox.js';
import { seedTradingApp } from '../../dist/sandbox/trading-app.js';
import { findTool } from '../../dist/adapters/pg-binaries.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const scale = arg('scale', 30);
const runs = arg('runs', 3);

const sandbox = await startSandbox({ fast: false });
const env = (port, password, db) => ({ PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: 'postgres', PGPASSWORD: password, PGDATABASE: db });
const blueEnv = env(sandbox.blue.port, sandbox.blue.password, 'app');
const tool = (t) => findTool(t, sandbox.blue.major);
const work = mkdtempSync(path.join(os.tmpdir(), 'bluegreen-bench-'));

async function admin(sql) {
  const c = new pg.Client(`postgres://postgres:${encodeURIComponent(sandbox.green.password)}@127.0.0.1:${sandbox.green.port}/postgres`);
  await c.connect();
  try { await c.query(sql); } finally { await c.end(); }
}
const freshGreen = async () => {
  await admin("DO $$ BEGIN CREATE ROLE app; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
  await admin('DROP DATABASE IF EXISTS bench WITH (FORCE)');
  await admin('CREATE DATABASE bench OWNER app');
};
const greenEnv = env(sandbox.green.port, sandbox.green.password, 'bench');
const bytes = (p) => statSync(p).isDirectory() ? readdirSync(p).reduce((s, f) => s + statSync(path.join(p, f)).size, 0) : statSync(p).size;

const variants = {
  'directory -j2 -Z0 → pg_restore -j2': async (out) => {
    await execa(tool('pg_dump'), ['-Fd', '-j2', '-Z0', '-f', out], { env: blueEnv });
    await execa(tool('pg_restore'), ['-j2', '-d', 'bench', out], { env: greenEnv });
  },
  'directory -j2 (gzip) → pg_restore -j2': async (out) => {
    await execa(tool('pg_dump'), ['-Fd', '-j2', '-f', out], { env: blueEnv });
    await execa(tool('pg_restore'), ['-j2', '-d', 'bench', out], { env: greenEnv });
  },
  'custom -Z0 → pg_restore -j2': async (out) => {
    await execa(tool('pg_dump'), ['-Fc', '-Z0', '-f', out], { env: blueEnv });
    await execa(tool('pg_restore'), ['-j2', '-d', 'bench', out], { env: greenEnv });
  },
  'custom (gzip) | pg_restore (stream)': async () => {
    await execa(`${tool('pg_dump')} -Fc | PGPORT=${greenEnv.PGPORT} PGPASSWORD='${greenEnv.PGPASSWORD}' ${tool('pg_restore')} -d bench`, { shell: true, env: blueEnv });
  },
  'plain | psql (no backup kept)': async () => {
    await execa(`${tool('pg_dump')} | PGPORT=${greenEnv.PGPORT} PGPASSWORD='${greenEnv.PGPASSWORD}' PGDATABASE=bench ${tool('psql')} -q -v ON_ERROR_STOP=1 >/dev/null`, { shell: true, env: blueEnv });
  },
};

try {
  const t0 = performance.now();
  await seedTradingApp(sandbox.blueUrl, scale, 'app');
  const c = new pg.Client(sandbox.blueUrl); await c.connect();
  const size = Number((await c.query(`SELECT pg_database_size('app') AS s`)).rows[0].s); await c.end();
  console.log(`blue: ${(size / 1048576).toFixed(0)} MB (scale ${scale}, seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s); ${os.cpus().length} cores; PostgreSQL ${sandbox.blue.major}; ${runs} runs each, interleaved`);
  const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const sizes = {};
  for (let r = 0; r < runs; r++) {
    for (const [name, run] of Object.entries(variants)) {
      await freshGreen();
      const out = path.join(work, `dump-${r}`);
      rmSync(out, { recursive: true, force: true });
      const start = performance.now();
      await run(out);
      times[name].push((performance.now() - start) / 1000);
      try { sizes[name] = bytes(out); } catch { sizes[name] = undefined; }
      rmSync(out, { recursive: true, force: true });
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const best = Math.min(...Object.values(times).map(median));
  console.log('\n| variant | median s | MB/s | vs fastest | dump size MB |\n|---|---|---|---|---|');
  for (const [name, xs] of Object.entries(times)) {
    const m = median(xs);
    console.log(`| ${name} | ${m.toFixed(2)} | ${(size / 1048576 / m).toFixed(1)} | ${(m / best).toFixed(2)}x | ${sizes[name] ? (sizes[name] / 1048576).toFixed(0) : '—'} |`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  await sandbox.stop();
}
