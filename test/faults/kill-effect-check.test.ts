/**
 * A controller killed while migrate's effect check holds green's subscription disabled (a major
 * upgrade: no pg_dump for green 16 here, so the scratch copy is made with green as a template and its
 * apply workers stopped for the copy). `resume` must enable the subscription again, and the rows blue
 * took meanwhile must reach green. Fast clusters: no durability asserted.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _resume } from '../../src/commands/resume.js';
import { _status } from '../../src/commands/status.js';
import { CLI } from '../e2e/run-cli.js';
import { type Rig, sql, startRig } from '../integration/helpers.js';

const subscriptions = (url: string) => sql<{ subname: string; subenabled: boolean; mark: string | null }>(url, `SELECT subname, subenabled, obj_description(oid, 'pg_subscription') AS mark FROM pg_subscription`);

async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('kill during the effect check on green 16, then resume', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ greenMajor: 16, config: { mode: 'replicate' } });
    expect((await _clone(rig.deps)).error).toBeUndefined();
  });
  afterAll(() => rig?.stop());

  it('resume enables the subscription the effect check disabled, and replication catches up', async () => {
    // A session on green's database keeps the template copy waiting (it retries for about 2 s), which
    // keeps the subscription disabled long enough to kill the controller in that moment.
    const holder = new pg.Client({ connectionString: rig.sandbox.greenUrl });
    await holder.connect();
    const child = spawn('node', [CLI, 'migrate', '--config', rig.configFile], { env: { ...process.env, ...rig.env, CI: '1' }, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await until('the effect check to disable the subscription', async () => (await subscriptions(rig.sandbox.greenUrl)).some((s) => !s.subenabled), 60_000);
      child.kill('SIGKILL');
      await exited;
    } finally {
      await holder.end();
    }
    const [left] = await subscriptions(rig.sandbox.greenUrl);
    expect(left).toMatchObject({ subenabled: false, mark: expect.stringMatching(/^pg-bluegreen: disabled by the effect check/) });
    expect((await _status(rig.deps)).phase).toBe('migrating');
    // Blue takes writes meanwhile: its slot keeps them for green.
    const [{ id }] = await sql<{ id: string }>(rig.sandbox.blueUrl, `INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'WHILE-OFF', 'buy', 1) RETURNING id`);

    const resumed = await _resume(rig.deps);
    expect(resumed.outcome).toBe('finished');
    expect(await subscriptions(rig.sandbox.greenUrl)).toEqual([{ subname: left.subname, subenabled: true, mark: null }]);
    await until('the row written while the subscription was off to reach green', async () => (await sql(rig.sandbox.greenUrl, 'SELECT 1 FROM orders WHERE id = $1', [id])).length === 1, 30_000);
    const status = await _status(rig.deps);
    expect(status.phase).toBe('ready');
    expect(status.replication).toMatchObject([{ direction: 'blue → green', running: true }]);
  });
});
