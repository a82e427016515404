/**
 * The kill matrix: the controller is SIGKILLed right after each step of clone, migrate, switchover,
 * rollback and finalize (every step, not a sample), then `bluegreen resume` runs. After each: traffic
 * points at exactly one database, it takes writes, PgBouncer is not paused, every write acknowledged
 * through PgBouncer is there, and exactly the replication objects the phase needs exist.
 * Durable clusters (fsync, synchronous_commit, full_page_writes on) wherever a writer's acknowledgements are checked (the matrix); fast clusters for the finalize kills (no durability asserted there).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _status } from '../../src/commands/status.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { bluegreen, CLI } from '../e2e/run-cli.js';
import { type Rig, sql, startRig } from '../integration/helpers.js';

/** Runs a command and SIGKILLs it right after its `after`-th finished step; returns whether it was killed. */
function killAfter(args: string[], env: Record<string, string>, after: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('node', [CLI, ...args], { env: { ...process.env, ...env, CI: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let done = 0;
    let killed = false;
    let buffer = '';
    const check = () => {
      if (!killed && done >= after) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    if (after === 0) child.stderr.once('data', check);
    child.stderr.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) if (/^(✔|✖) /.test(line)) done++;
      check();
    });
    child.on('exit', () => resolve(killed));
  });
}

async function replicationObjects(url: string): Promise<string[]> {
  try {
    const rows = await sql<{ o: string }>(url, `SELECT 'slot' AS o FROM pg_replication_slots UNION ALL SELECT 'publication' FROM pg_publication UNION ALL SELECT 'subscription' FROM pg_subscription ORDER BY 1`);
    return rows.map((r) => r.o);
  } catch (error) {
    // Green's database does not exist yet when a clone died before creating it: nothing can be in it.
    if (/database "app" does not exist/.test((error as Error).message)) return [];
    throw error;
  }
}

describe('kill the controller at every step, then resume', () => {
  let rig: Rig;
  let env: Record<string, string>;
  let load: ReturnType<typeof startWriteLoad>;
  const log: string[] = [];
  const cli = (...args: string[]) => bluegreen([...args, '--config', rig.configFile], { env });

  async function invariants(where: string) {
    const status = await _status(rig.deps);
    expect(status.serving, where).toBe(status.recordedServing);
    expect(['blue', 'green'], where).toContain(status.serving);
    const serving = status.serving === 'blue' ? rig.sandbox.blueUrl : rig.sandbox.greenUrl;
    const other = status.serving === 'blue' ? rig.sandbox.greenUrl : rig.sandbox.blueUrl;
    // PgBouncer not paused and the serving side takes writes: a write through PgBouncer lands there.
    const [{ id }] = await sql<{ id: string }>(rig.sandbox.appUrl, `INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'KILL', 'buy', 1) RETURNING id`);
    expect(await sql(serving, 'SELECT 1 FROM orders WHERE id = $1', [id]), where).toHaveLength(1);
    // Every write acknowledged so far is on the serving side.
    const missing = await sql(serving, 'SELECT unnest($1::bigint[]) AS id EXCEPT SELECT id FROM orders', [load.acknowledged()]);
    expect(missing, where).toEqual([]);
    // Exactly the replication the phase needs: one direction while a cutover is under way, none otherwise.
    const expected = ['ready', 'switched-over', 'rolled-back'].includes(status.phase)
      ? { publisher: ['publication', 'slot'], subscriber: ['subscription'] }
      : { publisher: [], subscriber: [] };
    expect({ publisher: await replicationObjects(serving), subscriber: await replicationObjects(other) }, `${where} (${status.phase})`).toEqual(expected);
    log.push(`${where}: ${status.phase}, ${status.serving} serves`);
    return status;
  }

  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate', switchover: { timeoutMs: 20000 } } });
    env = rig.env;
    load = startWriteLoad(rig.sandbox.appUrl, 40, 1);
  });
  afterAll(async () => {
    await load?.stop();
    await rig?.stop();
  });

  const stepsOf = async (command: string) => {
    // How many steps the command reports, from a dry run's plan (its verdict line is not a step).
    const plan = await cli(command, '--dry-run');
    return (plan.stdout.match(/ skipped +planned: /g) ?? []).length;
  };

  it('clone: killed after each step, resume aborts cleanly; blue keeps serving', async () => {
    const steps = await stepsOf('clone');
    expect(steps).toBeGreaterThan(8);
    for (let k = 0; k < steps; k++) {
      await killAfter(['clone', '--config', rig.configFile], env, k);
      const r = await cli('resume');
      expect(r.exitCode, r.stderr).toBe(0);
      const status = await invariants(`clone killed after step ${k}`);
      expect(['aborted', 'ready']).toContain(status.phase);
      if (status.phase === 'ready') expect((await cli('abort')).exitCode).toBe(0);
    }
  });

  it('migrate: killed after each migration, resume then migrate completes; each is all or nothing', async () => {
    expect((await cli('clone')).exitCode).toBe(0);
    for (let k = 0; k < 4; k++) {
      await killAfter(['migrate', '--config', rig.configFile], env, k);
      expect((await cli('resume')).exitCode).toBe(0);
      await invariants(`migrate killed after migration ${k}`);
      // The history and the schema agree: a migration is recorded exactly when its change is there.
      const [{ n, leverage }] = await sql<{ n: number; leverage: boolean }>(rig.sandbox.greenUrl, `SELECT (SELECT count(*)::int FROM bluegreen.migrations) AS n,
        EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'positions' AND column_name = 'leverage') AS leverage`);
      expect(leverage, `after killing at ${k}`).toBe(n >= 1);
    }
    expect((await cli('migrate')).exitCode).toBe(0);
    expect(await sql(rig.sandbox.greenUrl, 'SELECT count(*)::int AS n FROM bluegreen.migrations')).toEqual([{ n: 4 }]);
    await invariants('migrate completed after the kills');
  });

  it('switchover and rollback: killed after each step, resume finishes or undoes; nothing lost', async () => {
    const steps = await stepsOf('switchover');
    expect(steps).toBe(21);
    for (let k = 0; k < steps; k++) {
      await killAfter(['switchover', '--config', rig.configFile], env, k);
      expect((await cli('resume')).exitCode).toBe(0);
      const after = await invariants(`switchover killed after step ${k}`);
      if (after.phase !== 'switched-over') expect((await cli('switchover')).exitCode).toBe(0);
      // Now the other way: kill the rollback after the same step.
      await killAfter(['rollback', '--config', rig.configFile], env, k);
      expect((await cli('resume')).exitCode).toBe(0);
      const back = await invariants(`rollback killed after step ${k}`);
      if (back.phase !== 'rolled-back') expect((await cli('rollback')).exitCode).toBe(0);
    }
    // 21 steps, each direction killed, resumed and redone: about 76 flips. On durable clusters (PostgreSQL's
    // default 5 s wal_retrieve_retry_interval, which each rollback's new subscription waits on) that took
    // 157 s alone here, against 80 s on fast ones, and more beside other test files on two cores.
  }, 480_000);

  it('finalize: killed after its first step, resume completes it and nothing of ours is left', async () => {
    expect((await cli('switchover')).exitCode).toBe(0);
    await killAfter(['finalize', '--config', rig.configFile, '--force'], env, 1);
    expect((await cli('resume')).exitCode).toBe(0);
    const status = await invariants('finalize killed after step 1');
    expect(status.phase).toBe('finalized');
  });

  it('across all of it, no write through PgBouncer was refused, and every acknowledged one is on green', async () => {
    const stats = await load.stop();
    console.log(`${log.join('\n')}\nwriter: ${stats.acknowledged.length} acknowledged, ${stats.refused} refused`);
    expect(stats.refused, stats.firstRefusal).toBe(0);
    expect(await sql(rig.sandbox.greenUrl, 'SELECT unnest($1::bigint[]) AS id EXCEPT SELECT id FROM orders', [stats.acknowledged])).toEqual([]);
  });
});

describe('kill finalize after each of its steps (a cutover each: finalize happens once)', () => {
  for (const k of [0, 2]) {
    it(`killed after step ${k}: resume completes it, nothing of ours is left on either side`, async () => {
      const rig = await startRig({ config: { mode: 'replicate', migrations: undefined } });
      try {
        const cli = (...args: string[]) => bluegreen([...args, '--config', rig.configFile], { env: rig.env });
        expect((await cli('clone')).exitCode).toBe(0);
        expect((await cli('switchover')).exitCode).toBe(0);
        await killAfter(['finalize', '--config', rig.configFile, '--force'], rig.env, k);
        expect((await cli('resume')).exitCode).toBe(0);
        const status = await _status(rig.deps);
        expect(status).toMatchObject({ phase: 'finalized', serving: 'green', recordedServing: 'green' });
        expect(await replicationObjects(rig.sandbox.blueUrl)).toEqual([]);
        expect(await replicationObjects(rig.sandbox.greenUrl)).toEqual([]);
        await sql(rig.sandbox.appUrl, `INSERT INTO users (email, name) VALUES ('after-finalize@example.com', 'f')`);
      } finally {
        await rig.stop();
      }
    });
  }
});
