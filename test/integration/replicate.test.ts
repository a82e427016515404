/**
 * The proof of replicate mode: a writer through PgBouncer records, client side, every write the
 * database acknowledged, for the whole sequence clone → migrate → switchover → writes on green →
 * rollback → switchover → finalize. At the end every acknowledged write is in the serving
 * database, no transaction failed (they only waited), and nothing of ours is left replicating.
 * Durable clusters (fsync, synchronous_commit, full_page_writes on) wherever a writer's acknowledgements are checked (the first block); fast clusters for the others (no durability asserted there).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _abort } from '../../src/commands/abort.js';
import { _clone } from '../../src/commands/clone.js';
import { _compare } from '../../src/commands/compare.js';
import { _finalize } from '../../src/commands/finalize.js';
import { _migrate } from '../../src/commands/migrate.js';
import { _status } from '../../src/commands/status.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { missingOrders, type Rig, sql, startRig } from './helpers.js';

async function replicationObjects(url: string): Promise<string[]> {
  const rows = await sql<{ o: string }>(
    url,
    `SELECT 'slot ' || slot_name AS o FROM pg_replication_slots UNION ALL SELECT 'publication ' || pubname FROM pg_publication
     UNION ALL SELECT 'subscription ' || subname FROM pg_subscription`,
  );
  return rows.map((r) => r.o);
}

const direct = (rig: Rig, side: 'blue' | 'green') =>
  `postgres://${rig.sandbox.appUser}:${encodeURIComponent(rig.sandbox.appPassword)}@127.0.0.1:${rig.sandbox[side].port}/app`;

describe('replicate mode: a cutover under live writes loses nothing', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate' } });
    await sql(rig.sandbox.blueUrl, `CREATE SEQUENCE invoice_numbers START 1000`);
  });
  afterAll(() => rig?.stop());

  it('clone → migrate → switchover → rollback → switchover → finalize, with every acknowledged write kept', async () => {
    const load = startWriteLoad(rig.sandbox.appUrl, 150, 3);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const clone = await _clone(rig.deps);
      expect(clone.error).toBeUndefined();
      expect(clone.steps.find((s) => s.name === 'subscribe-green')?.status).toBe('ok');
      await _migrate(rig.deps);

      const compare = await _compare(rig.deps);
      expect(compare.schema.unexpected).toEqual([]);
      expect(compare.tables.filter((t) => t.status === 'differs')).toEqual([]);

      // A sequence no column owns still moves with blue (sequences do not replicate; the switchover syncs them all).
      await sql(rig.sandbox.blueUrl, `SELECT nextval('invoice_numbers') FROM generate_series(1, 5)`);
      const pauses: Record<string, number | undefined> = {};
      const first = await _switchover(rig.deps);
      expect(first.error).toBeUndefined();
      pauses.switchover = first.writePauseMs;
      expect((await _status(rig.deps)).replication).toEqual([expect.objectContaining({ direction: 'green → blue', running: true })]);
      expect(await sql(rig.sandbox.greenUrl, `SELECT last_value::int AS v FROM invoice_numbers`)).toEqual(await sql(rig.sandbox.blueUrl, `SELECT last_value::int AS v FROM invoice_numbers`));

      // Writes on green, including one that only green's new column can hold.
      await new Promise((r) => setTimeout(r, 500));
      await sql(rig.sandbox.appUrl, `UPDATE positions SET leverage = 3, quantity = quantity + 1 WHERE id = 1`);
      const rollback = await _rollback(rig.deps);
      expect(rollback.error).toBeUndefined();
      pauses.rollback = rollback.writePauseMs;
      // The write made on green reached blue in the columns blue has.
      expect(await sql(rig.sandbox.blueUrl, `SELECT quantity::int FROM positions WHERE id = 1`)).toEqual(
        await sql(rig.sandbox.greenUrl, `SELECT quantity::int FROM positions WHERE id = 1`),
      );

      await new Promise((r) => setTimeout(r, 500));
      const second = await _switchover(rig.deps);
      expect(second.error).toBeUndefined();
      pauses.secondSwitchover = second.writePauseMs;
      await new Promise((r) => setTimeout(r, 500));

      const stats = await load.stop();
      expect(stats.refused).toBe(0);
      expect(stats.acknowledged.length).toBeGreaterThan(200);
      expect(await missingOrders(rig.sandbox.greenUrl, stats.acknowledged)).toEqual([]);
      console.log(`replicate mode write pauses (ms): ${JSON.stringify(pauses)}; ${stats.acknowledged.length} writes acknowledged, 0 failed, longest wait ${stats.maxLatencyMs} ms`);
    } finally {
      await load.stop();
    }

    const finalize = await _finalize(rig.deps, { force: true });
    expect(finalize.error).toBeUndefined();
    expect(await replicationObjects(rig.sandbox.blueUrl)).toEqual([]);
    expect(await replicationObjects(rig.sandbox.greenUrl)).toEqual([]);
  });

  it('after the switchover blue refuses writes even from a session that turns read-only off', async () => {
    await expect(sql(direct(rig, 'blue'), `SET default_transaction_read_only = off; UPDATE users SET name = 'x' WHERE id = 1`)).rejects.toThrow(/frozen by pg-bluegreen/);
  });
});

describe('replicate mode: a drain that cannot finish aborts back to blue', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ config: { mode: 'replicate', switchover: { timeoutMs: 2500 } } });
    expect((await _clone(rig.deps)).ok).toBe(true);
  });
  afterAll(() => rig?.stop());

  it('an open transaction on green that would hold up the reverse slot is refused by name before anything is paused', async () => {
    // A transaction with an xid on green: creating a logical slot there waits for it to end.
    const holder = new pg.Client({ connectionString: rig.sandbox.greenUrl, application_name: 'dba-console' });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT * FROM accounts WHERE id = 2 FOR UPDATE');
    await new Promise((r) => setTimeout(r, 600));
    let result;
    try {
      result = await _switchover({ ...rig.deps, config: { ...rig.deps.config, switchover: { ...rig.deps.config.switchover, blockers: { action: 'terminate', waitMs: 1000, minAgeMs: 500 } } } });
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect(result.ok).toBe(false);
    expect(result.error?.exitCode).toBe(3);
    // Never acted on (terminate is for the application's sessions on blue), only named.
    expect(result.error?.message).toMatch(/^switchover aborted at blockers: 1 session on green would hold the green → blue slot this flip makes \(waited 1\.\d s unpaused; nothing was paused\):\n {2}pid \d+ postgres "dba-console"/);
    expect(result.steps.find((s) => s.name === 'pause')?.status).toBe('skipped');
    expect(await replicationObjects(rig.sandbox.greenUrl)).toEqual([expect.stringMatching(/^subscription bluegreen_fwd_/)]);
  });

  it('times out, leaves blue serving and writable with green still following, and nothing lost', async () => {
    // Green applies slowly right when it matters: a trigger that apply workers fire (ENABLE ALWAYS)
    // sleeps when the drain's heartbeat arrives. (A lock on an application table would not do: any
    // table lock that blocks the apply worker also blocks the reverse publication, and the apply
    // worker's xid, taken when it locks the row, holds up the reverse slot.)
    await sql(rig.sandbox.greenUrl, `SET bluegreen.allow_writes = on;
      CREATE FUNCTION public.slow_apply() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(6); RETURN NEW; END $$;
      CREATE TRIGGER slow_apply BEFORE UPDATE ON bluegreen.heartbeat FOR EACH ROW EXECUTE FUNCTION public.slow_apply();
      ALTER TABLE bluegreen.heartbeat ENABLE ALWAYS TRIGGER slow_apply;`);
    await sql(rig.sandbox.appUrl, `UPDATE accounts SET balance = balance + 100 WHERE id = 1`);
    const result = await _switchover(rig.deps);
    await sql(rig.sandbox.greenUrl, `SET bluegreen.allow_writes = on; DROP TRIGGER slow_apply ON bluegreen.heartbeat; DROP FUNCTION public.slow_apply()`);
    expect(result.ok).toBe(false);
    expect(result.serving).toBe('blue');
    expect(result.error?.message).toMatch(/^switchover aborted at drain: switchover\.timeoutMs \(2500 ms\) ran out during waiting for green to apply blue's last writes/);
    expect(result.error?.message).toMatch(/blue reopened: done.*transactions resumed: done.*slot bluegreen_rev_\S+ dropped: done/);
    expect(result.error?.hint).toContain('Replication blue → green keeps running.');
    // Blue serves and takes writes through PgBouncer again; green catches up with everything.
    await sql(rig.sandbox.appUrl, `INSERT INTO users (email, name) VALUES ('after-abort@example.com', 'a')`);
    const compare = await _compare(rig.deps);
    expect(compare.tables.filter((t) => t.status !== 'ok')).toEqual([]);
    expect(await sql(rig.sandbox.greenUrl, `SELECT balance::text FROM accounts WHERE id = 1`)).toEqual(await sql(rig.sandbox.blueUrl, `SELECT balance::text FROM accounts WHERE id = 1`));
    expect(await replicationObjects(rig.sandbox.greenUrl)).toEqual([expect.stringMatching(/^subscription bluegreen_fwd_/)]);
    // And the cutover can be retried.
    expect((await _switchover(rig.deps)).ok).toBe(true);
  });
});

describe('replicate mode: an aborted cutover leaves nothing replicating', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ config: { mode: 'replicate' } });
  });
  afterAll(() => rig?.stop());

  it('abort after the clone drops the slot, publication and subscription, and blue keeps serving', async () => {
    expect((await _clone(rig.deps)).ok).toBe(true);
    expect(await replicationObjects(rig.sandbox.blueUrl)).toHaveLength(2);
    const aborted = await _abort(rig.deps);
    expect(aborted.error).toBeUndefined();
    expect(await replicationObjects(rig.sandbox.blueUrl)).toEqual([]);
    expect(await replicationObjects(rig.sandbox.greenUrl)).toEqual([]);
    await sql(rig.sandbox.appUrl, `INSERT INTO users (email, name) VALUES ('after-abort@example.com', 'a')`);
    expect((await _status(rig.deps)).phase).toBe('aborted');
  });
});

describe('replicate mode: migrations that would break replication are refused', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ config: { mode: 'replicate' } });
    expect((await _clone(rig.deps)).ok).toBe(true);
  });
  afterAll(() => rig?.stop());

  it('names the file, the statement and the alternative, and applies nothing', async () => {
    writeFileSync(path.join(rig.migrationsDir, '0005_rename_name.up.sql'), `-- v2.7\nALTER TABLE users RENAME COLUMN name TO full_name;\n`);
    const report = await _migrate(rig.deps);
    expect(report.ok).toBe(false);
    const error = report.error;
    expect(error?.exitCode).toBe(3);
    expect(error?.message).toContain('0005_rename_name.up.sql:2:1: ALTER TABLE users RENAME COLUMN name TO full_name');
    expect(error?.message).toContain('instead: add the new column, write both, backfill, move reads, and drop the old one in a later cutover');
    expect(await sql(rig.sandbox.greenUrl, `SELECT count(*)::int AS n FROM bluegreen.migrations`).catch(() => [{ n: 0 }])).toEqual([{ n: 0 }]);
    expect(await sql(rig.sandbox.greenUrl, `SELECT column_name FROM information_schema.columns WHERE table_name = 'positions' AND column_name = 'leverage'`)).toEqual([]);
  });
});
