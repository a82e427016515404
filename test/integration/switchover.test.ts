/** Durable clusters (fsync, synchronous_commit, full_page_writes on) wherever a writer's acknowledgements are checked (PgBouncer, freeze mode); fast clusters for the file pointer (no durability asserted there). */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _compare } from '../../src/commands/compare.js';
import { _finalize } from '../../src/commands/finalize.js';
import { _migrate } from '../../src/commands/migrate.js';
import { _status } from '../../src/commands/status.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { LOCK_NAMESPACE, LockKey } from '../../src/adapters/pg.js';
import { missingOrders, type Rig, sql, startRig } from './helpers.js';

async function persistentClient(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const port = async () => Number((await client.query<{ p: number }>('SELECT inet_server_port() AS p')).rows[0].p);
  return { client, port };
}

describe('switchover and rollback through PgBouncer (freeze mode)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false });
  });
  afterAll(() => rig?.stop());

  it('a client keeps its PgBouncer connection and lands on green; every acknowledged write is there', async () => {
    const app = await persistentClient(rig.sandbox.appUrl);
    const load = startWriteLoad(rig.sandbox.appUrl, 60);
    try {
      expect(await app.port()).toBe(rig.sandbox.blue.port);
      await new Promise((r) => setTimeout(r, 300));
      expect((await _clone(rig.deps)).ok).toBe(true);
      await _migrate(rig.deps);
      const result = await _switchover(rig.deps);
      expect(result.error).toBeUndefined();
      expect(result.ok).toBe(true);
      expect(result.steps.map((s) => `${s.name}:${s.status}`)).toEqual([
        'analyze-green:ok', 'refresh-materialized-views:skipped', 'count-changes-on-green:ok', 'carry-large-objects:skipped', 'check-unlogged-tables:skipped', 'blockers:skipped', 'guardrails:ok', 'pause:ok', 'freeze-blue:ok', 'sync-sequences:ok', 'carry-large-objects-changed:ok', 'copy-unlogged-tables:skipped', 'open-green:ok', 'flip:ok', 'resume:ok',
      ]);
      expect(result.writePauseMs).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 400));
      const stats = await load.stop();
      expect(await app.port()).toBe(rig.sandbox.green.port);
      expect(stats.acknowledged.length).toBeGreaterThan(10);
      expect(await missingOrders(rig.sandbox.greenUrl, stats.acknowledged)).toEqual([]);
      // Writes on green after the flip get ids above blue's: sequences were synced.
      const { rows } = await app.client.query<{ id: string }>(`INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'T', 'buy', 1) RETURNING id`);
      expect(Number(rows[0].id)).toBeGreaterThan(Math.max(...stats.acknowledged));
      console.log(`switchover write pause: ${result.writePauseMs} ms; writes acknowledged ${stats.acknowledged.length}, refused while frozen ${stats.refused}`);
    } finally {
      // A writer left running after a failure would write into every later test's figures.
      await load.stop();
      await app.client.end();
    }
  });

  it('compare after the switchover tells green\'s new writes from differences', async () => {
    const result = await _compare(rig.deps);
    expect(result.tables.find((t) => t.table === 'public.orders')?.status).toBe('written-since-switchover');
    expect(result.tables.find((t) => t.table === 'public.users')?.status).toBe('ok');
    expect(result.ok).toBe(true);
  });

  it('status shows green serving and the rollback window', async () => {
    const status = await _status(rig.deps);
    expect(status).toMatchObject({ phase: 'switched-over', serving: 'green', recordedServing: 'green', blueFrozen: true });
    expect(status.rollbackWindowLeftMs).toBeGreaterThan(23 * 3_600_000);
  });

  it('rollback refuses to lose green\'s writes without --accept-data-loss, counting them per table', async () => {
    await sql(rig.sandbox.appUrl, `INSERT INTO users (email, name) VALUES ('green-only@example.com', 'g')`);
    const refused = await _rollback(rig.deps);
    expect(refused.ok).toBe(false);
    expect(refused.error).toMatchObject({ code: 'data_loss_refused', exitCode: 3 });
    // Independently: blue has been frozen since the clone, so green's orders above blue's highest id are the ones written on green.
    const [{ max }] = await sql<{ max: string }>(rig.sandbox.blueUrl, 'SELECT max(id)::text AS max FROM orders');
    const [{ n }] = await sql<{ n: string }>(rig.sandbox.greenUrl, 'SELECT count(*) AS n FROM orders WHERE id > $1', [max]);
    expect(Number(n)).toBeGreaterThan(1);
    expect(refused.lostWrites).toEqual([{ table: 'public.orders', written: Number(n), inserted: Number(n) }, { table: 'public.users', written: 1, inserted: 1 }]);
    expect((await _status(rig.deps)).serving).toBe('green');
  });

  it('rollback with --accept-data-loss puts the client back on blue, which takes writes again', async () => {
    const app = await persistentClient(rig.sandbox.appUrl);
    try {
      expect(await app.port()).toBe(rig.sandbox.green.port);
      const result = await _rollback(rig.deps, { acceptDataLoss: true });
      expect(result.ok).toBe(true);
      expect(await app.port()).toBe(rig.sandbox.blue.port);
      await app.client.query(`INSERT INTO users (email, name) VALUES ('back-on-blue@example.com', 'b')`);
      expect(await sql(rig.sandbox.greenUrl, `SELECT frozen FROM bluegreen.write_guard`)).toEqual([{ frozen: true }]);
      console.log(`rollback write pause: ${result.writePauseMs} ms`);
    } finally {
      await app.client.end();
    }
  });

  it('keeps PgBouncer\'s ini private to its owner and its other lines intact', () => {
    const ini = readFileSync(rig.sandbox.pgbouncer.ini, 'utf8');
    expect(ini).toContain('; bluegreen rewrites only the entry it was told about');
    expect(ini).toMatch(new RegExp(`^app = host=127\\.0\\.0\\.1 port=${rig.sandbox.blue.port} dbname=app$`, 'm'));
    expect(statSync(rig.sandbox.pgbouncer.ini).mode & 0o777).toBe(0o600);
  });

  it('aborts when PAUSE cannot finish in time: blue still serves, PgBouncer is resumed, nothing is lost', async () => {
    // Green holds the only copy of what the last rollback gave up: clone refuses to drop it unless told.
    await expect(_clone(rig.deps)).rejects.toThrow(/only copy of what the rollback at .* gave up/);
    expect((await _clone(rig.deps, { acceptDataLoss: true })).ok).toBe(true);
    expect(readFileSync(`${rig.config.stateDir}/audit.log`, 'utf8')).toMatch(/"command":"clone".*"outcome":"data-loss-accepted".*green re-created/);
    const holder = new pg.Client({ connectionString: rig.sandbox.appUrl });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT count(*) FROM users'); // a transaction left open through PgBouncer
    // Blockers are left to PAUSE here (a minimum age no transaction reaches): this test is about PAUSE's own budget.
    const slow = { ...rig.deps, config: { ...rig.deps.config, switchover: { ...rig.deps.config.switchover, timeoutMs: 5000, pauseTimeoutMs: 800, blockers: { action: 'wait' as const, waitMs: 0, minAgeMs: 600_000 } } } };
    try {
      const result = await _switchover(slow);
      expect(result.ok).toBe(false);
      expect(result.serving).toBe('blue');
      expect(result.error?.message).toMatch(/^switchover aborted at pause: PgBouncer could not pause "app" within \d+ ms/);
      expect(result.error?.hint).toContain('blue still serves');
      expect(result.steps.find((s) => s.name === 'flip')?.status).toBe('skipped');
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    // PgBouncer answers again, and the record allows a retry.
    expect(await sql(rig.sandbox.appUrl, 'SELECT inet_server_port() AS p')).toEqual([{ p: rig.sandbox.blue.port }]);
    expect((await _status(rig.deps)).phase).toBe('ready');
  });

  it('refuses a second controller, naming the one holding the lock', async () => {
    const other = new pg.Client({ connectionString: rig.sandbox.blueUrl, application_name: 'bluegreen switchover alice@ops-box pid 4242' });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, LockKey.controller]);
      await expect(_switchover(rig.deps)).rejects.toThrow(/another bluegreen controller is running: bluegreen switchover alice@ops-box pid 4242 as postgres/);
    } finally {
      await other.end();
    }
  });

  it('finalize refuses inside the window, and with --force retires blue', async () => {
    expect((await _switchover(rig.deps)).ok).toBe(true);
    await expect(_finalize(rig.deps)).rejects.toMatchObject({ message: expect.stringMatching(/the rollback window is open for another/), exitCode: 3 });
    const result = await _finalize(rig.deps, { force: true });
    expect(result.ok).toBe(true);
    expect((await _status(rig.deps)).phase).toBe('finalized');
    expect(await sql(rig.sandbox.greenUrl, `SELECT to_regclass('bluegreen.write_guard') AS t`)).toEqual([{ t: null }]);
    await sql(rig.sandbox.appUrl, `INSERT INTO users (email, name) VALUES ('after-finalize@example.com', 'f')`);
    await expect(sql(`postgres://${rig.sandbox.appUser}:${encodeURIComponent(rig.sandbox.appPassword)}@127.0.0.1:${rig.sandbox.blue.port}/app`, `DELETE FROM trades`)).rejects.toThrow(/frozen by pg-bluegreen \(retired/);
  });
});

describe('switchover with a connection-string file pointer', () => {
  let rig: Rig;
  let pointerFile: string;
  beforeAll(async () => {
    rig = await startRig({
      config: { pointer: { type: 'file', path: 'db.env', variable: 'DATABASE_URL', notify: 'echo "$BLUEGREEN_SERVING" > notified.txt' } },
    });
    pointerFile = path.join(rig.dir, 'db.env');
    writeFileSync(pointerFile, `# written by deploy\nDATABASE_URL=postgres://app:${encodeURIComponent(rig.sandbox.appPassword)}@127.0.0.1:${rig.sandbox.blue.port}/app\nOTHER=kept\n`, { mode: 0o640 });
  });
  afterAll(() => rig?.stop());

  it('replaces the URL atomically, keeps the rest of the file and runs the notify command', async () => {
    expect((await _clone(rig.deps)).ok).toBe(true);
    const result = await _switchover(rig.deps);
    expect(result.ok).toBe(true);
    expect(result.steps.find((s) => s.name === 'pause')?.status).toBe('skipped');
    const text = readFileSync(pointerFile, 'utf8');
    expect(text).toBe(`# written by deploy\nDATABASE_URL=postgres://app:${encodeURIComponent(rig.sandbox.appPassword)}@127.0.0.1:${rig.sandbox.green.port}/app\nOTHER=kept\n`);
    expect(statSync(pointerFile).mode & 0o777).toBe(0o640);
    expect(readFileSync(path.join(rig.dir, 'notified.txt'), 'utf8')).toBe('green\n');
    expect((await _status(rig.deps)).serving).toBe('green');
  });
});
