// Shared parts of the benchmark sections: a seeded sandbox per size, bluegreen's deps, pgbench.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { startSandbox } from '../../dist/sandbox/sandbox.js';
import { seedTradingApp } from '../../dist/sandbox/trading-app.js';
import { parseConfig } from '../../dist/core/config.js';
import { createDeps } from '../../dist/commands/context.js';
import { silentProgress } from '../../dist/adapters/progress.js';
import { findTool } from '../../dist/adapters/pg-binaries.js';
import { DEMO_MIGRATIONS } from '../../dist/sandbox/demo.js';

/** The demo schema takes about 12.3 MB per unit of scale (measured: scale 12 = 154 MB, 60 = 738 MB). */
export const MB_PER_SCALE = 12.3;

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function q(url, sql, params = []) {
  const c = new pg.Client(url);
  await c.connect();
  try {
    return (await c.query(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** The newest client tool installed (the sandbox runs the newest server). */
export const tool = (name) => findTool(name, 0);

/** A sandbox with durable settings (fsync on) and the demo schema at about `sizeMb`. */
export async function seededSandbox(sizeMb) {
  const sb = await startSandbox({ fast: false });
  const work = mkdtempSync(path.join(os.tmpdir(), 'bluegreen-bench-'));
  await seedTradingApp(sb.blueUrl, Math.max(0.05, sizeMb / MB_PER_SCALE), sb.appUser);
  await q(sb.blueUrl, 'VACUUM ANALYZE');
  const [{ size }] = await q(sb.blueUrl, `SELECT pg_database_size('app')::bigint AS size`);
  return {
    sb,
    work,
    mb: Number(size) / 1048576,
    async stop() {
      rmSync(work, { recursive: true, force: true });
      await sb.stop();
    },
  };
}

/** bluegreen's deps for the sandbox, in a mode. */
export function depsFor(sb, work, mode) {
  const cfg = {
    blue: sb.blueUrl,
    green: sb.greenUrl,
    mode,
    migrations: { dir: DEMO_MIGRATIONS },
    pointer: { type: 'pgbouncer', admin: sb.adminUrl, ini: sb.pgbouncer.ini, database: 'app' },
    stateDir: path.join(work, `state-${mode}`),
  };
  return createDeps(parseConfig(JSON.stringify(cfg), path.join(work, 'bluegreen.config.json'), {}), silentProgress);
}

/**
 * pgbench at a fixed rate through PgBouncer, one INSERT per transaction, every transaction's latency
 * logged by pgbench itself. `done()` returns the transactions and pgbench's own counts.
 */
export function pgbench(sb, work, { tag, rate, seconds, clients = 8 }) {
  const script = path.join(work, 'insert.sql');
  writeFileSync(script, `INSERT INTO orders (account_id, symbol, side, quantity, limit_price) VALUES (1 + (random() * 999)::int, 'PGB', 'buy', 1, 100);\n`);
  const prefix = `pgbench-${tag}`;
  const child = execa(tool('pgbench'), ['-n', '-h', '127.0.0.1', '-p', String(sb.pgbouncer.port), '-U', sb.appUser, '-c', String(clients), '-j', '2',
    '-R', String(rate), '-T', String(seconds), '-f', script, '-l', `--log-prefix=${path.join(work, prefix)}`, sb.database], { env: { PGPASSWORD: sb.appPassword }, reject: false, all: true });
  return {
    async done() {
      const r = await child;
      const tx = [];
      for (const f of readdirSync(work).filter((f) => f.startsWith(prefix))) {
        for (const line of readFileSync(path.join(work, f), 'utf8').trim().split('\n')) {
          if (!line) continue;
          const cols = line.split(' '); // client_id transaction_no time script_no time_epoch time_us [schedule_lag]
          const latencyMs = Number(cols[2]) / 1000;
          const endMs = Number(cols[4]) * 1000 + Number(cols[5]) / 1000;
          tx.push({ client: Number(cols[0]), start: endMs - latencyMs, latencyMs });
        }
        rmSync(path.join(work, f));
      }
      // pgbench's "failed transactions" counts only retryable failures; a client that hits any other
      // error is aborted and stops, which must count as failure too.
      const aborted = (r.all.match(/client \d+ aborted/g) ?? []).length;
      return {
        tx,
        failed: Number(/number of failed transactions: (\d+)/.exec(r.all)?.[1] ?? 0) + aborted,
        aborted,
        processed: Number(/number of transactions actually processed: (\d+)/.exec(r.all)?.[1] ?? NaN),
        output: r.all,
      };
    },
  };
}

/** The longest latency of transactions overlapping [from, to]. */
export const longestWait = (tx, from = -Infinity, to = Infinity) => tx.filter((t) => t.start + t.latencyMs >= from && t.start <= to).reduce((m, t) => Math.max(m, t.latencyMs), 0);
