// The application's view of a flip (issue 23): under pgbench through PgBouncer, with one session
// idle in a transaction and one long query open, what each client waited: the bare PgBouncer
// PAUSE → RESUME (PAUSE waits for the open transaction until its budget, every client behind it),
// a switchover with the default `wait` (refused before any pause), and one with `--blockers terminate`.
import pg from 'pg';
import { _rollback, _switchover } from '../../dist/commands/switchover.js';
import { pgbench, sleep } from './lib.mjs';

/** Worst latency, and the p99 of the worst client, over transactions overlapping [from, to]. */
function clientView(tx, from, to) {
  const inWindow = tx.filter((t) => t.start + t.latencyMs >= from && t.start <= to);
  const byClient = new Map();
  for (const t of inWindow) byClient.set(t.client, [...(byClient.get(t.client) ?? []), t.latencyMs]);
  const p99 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))];
  return {
    worstWaitMs: inWindow.reduce((m, t) => Math.max(m, t.latencyMs), 0),
    worstClientP99Ms: Math.max(0, ...[...byClient.values()].map(p99)),
    clients: byClient.size,
    transactions: inWindow.length,
  };
}

/** One idle-in-transaction session and one long query through PgBouncer; `end()` closes both. */
async function misbehavingClients(url) {
  const idle = new pg.Client({ connectionString: url, application_name: 'bench-idle' });
  const long = new pg.Client({ connectionString: url, application_name: 'bench-report' });
  for (const c of [idle, long]) { c.on('error', () => undefined); await c.connect(); }
  await idle.query('BEGIN');
  await idle.query('SELECT count(*) FROM orders');
  const running = long.query('SELECT pg_sleep(60)').catch(() => undefined);
  await sleep(800);
  return { async end() { await idle.query('ROLLBACK').catch(() => undefined); await Promise.all([idle.end().catch(() => undefined), long.end().catch(() => undefined)]); await running; } };
}

export async function benchAppView({ sb, work }, deps, { rate, seconds }) {
  const rows = [];
  const measure = async (label, act) => {
    const run = pgbench(sb, work, { tag: `app-${rows.length}`, rate, seconds });
    await sleep(1500);
    const clients = await misbehavingClients(sb.appUrl);
    const t0 = Date.now();
    const detail = await act();
    const t1 = Date.now();
    await clients.end();
    const result = await run.done();
    rows.push({ approach: label, ...clientView(result.tx, t0, t1), windowMs: t1 - t0, detail, failedTransactions: result.failed });
  };
  const budget = deps.config.switchover.pauseTimeoutMs;
  await measure(`bare PgBouncer PAUSE → RESUME (PAUSE given ${budget} ms, as the tool's budget)`, async () => {
    const admin = new pg.Client(sb.adminUrl); await admin.connect();
    const other = new pg.Client(sb.adminUrl); await other.connect();
    const paused = admin.query('PAUSE app').then(() => 'paused', () => 'failed');
    const outcome = await Promise.race([paused, sleep(budget).then(() => 'timed out')]);
    await other.query('RESUME app').catch(() => undefined);
    await Promise.all([admin.end().catch(() => undefined), other.end()]);
    return outcome;
  });
  await measure('bluegreen switchover, blockers "wait" (waitMs 1000): refused before any pause', async () => {
    const r = await _switchover({ ...deps, config: { ...deps.config, switchover: { ...deps.config.switchover, blockers: { ...deps.config.switchover.blockers, waitMs: 1000 } } } });
    return r.ok ? 'switched over (unexpected)' : `refused: ${r.error?.message.split('\n')[0]}`;
  });
  await measure('bluegreen switchover --blockers terminate', async () => {
    const r = await _switchover(deps, { blockers: 'terminate' });
    if (!r.ok) throw new Error(`switchover failed: ${r.error?.message}`);
    return `write pause ${r.writePauseMs} ms`;
  });
  const back = await _rollback(deps);
  if (!back.ok) throw new Error(`rollback failed: ${back.error?.message}`);
  return rows;
}
