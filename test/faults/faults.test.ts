/**
 * Faults survived, each with a clear message and the invariants: one database serves and takes writes, nothing acknowledged is lost, nothing of ours is left behind.
 * Durable clusters (fsync, synchronous_commit, full_page_writes on) wherever a writer's acknowledgements are checked (the replicate-mode block); fast clusters for the bad surroundings (no durability asserted there).
 */
import { execa } from 'execa';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _compare } from '../../src/commands/compare.js';
import { createDeps } from '../../src/commands/context.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { _status } from '../../src/commands/status.js';
import { silentProgress, type Progress } from '../../src/adapters/progress.js';
import { findTool } from '../../src/adapters/pg-binaries.js';
import { startStoppedCluster, stopCluster } from '../../src/sandbox/cluster.js';
import { restartPgbouncer, stopPgbouncer } from '../../src/sandbox/pgbouncer.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { bluegreen } from '../e2e/run-cli.js';
import { type Rig, sql, startRig } from '../integration/helpers.js';

const objects = (url: string) => sql<{ o: string }>(url, `SELECT 'slot ' || slot_name AS o FROM pg_replication_slots UNION ALL SELECT 'publication ' || pubname FROM pg_publication`).then((r) => r.map((x) => x.o));

describe('faults in replicate mode', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate', migrations: undefined } });
  });
  afterAll(() => rig?.stop());

  it('green stopped during the clone: the clone fails saying where, blue keeps no slot, and a later clone works', async () => {
    // The progress port tells us when the restore starts: that is when green goes down.
    let stopped: Promise<void> | undefined;
    const progress: Progress = { ...silentProgress, start: (text) => { if (text.startsWith('Restoring into green')) stopped = stopCluster(rig.sandbox.green, rig.sandbox.user); } };
    // The dumping clone (clone.backup "dump"); the streaming one's failure midway is in stream-clone.test.ts.
    const result = await _clone({ ...rig.deps, config: { ...rig.deps.config, clone: { backup: 'dump' } }, progress });
    await stopped;
    expect(result.ok).toBe(false);
    expect(result.error?.message).toMatch(/^clone failed at restore: pg_restore failed/);
    expect(result.error?.hint).toContain('Blue serves.');
    expect(await objects(rig.sandbox.blueUrl)).toEqual([]);
    await startStoppedCluster(rig.sandbox.green, rig.sandbox.user);
    expect((await _clone(rig.deps)).ok).toBe(true);
  });

  it('blue crashed (immediate shutdown) while green is syncing: replication resumes and both sides have every acknowledged write', async () => {
    const load = startWriteLoad(rig.sandbox.appUrl, 100, 2);
    await new Promise((r) => setTimeout(r, 500));
    // A crash (immediate shutdown: no checkpoint, recovery from WAL at the start). On these durable clusters
    // every acknowledged commit survives it; with synchronous_commit off some would not (14 were lost when
    // this ran on fast clusters), which no tool above the server can keep.
    await stopCluster(rig.sandbox.blue, rig.sandbox.user, 'immediate');
    await startStoppedCluster(rig.sandbox.blue, rig.sandbox.user);
    await new Promise((r) => setTimeout(r, 1500));
    const stats = await load.stop();
    expect(stats.acknowledged.length).toBeGreaterThan(20);
    // A write after the restart (straight to blue: PgBouncer holds new server logins for server_login_retry after a failed one).
    const [{ id }] = await sql<{ id: string }>(rig.sandbox.blueUrl, `INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'AFTER', 'buy', 1) RETURNING id`);
    expect(await sql(rig.sandbox.blueUrl, 'SELECT unnest($1::bigint[]) AS id EXCEPT SELECT id FROM orders', [stats.acknowledged])).toEqual([]);
    const compare = await _compare(rig.deps); // drains replication first: only possible once it has resumed
    expect(await sql(rig.sandbox.greenUrl, 'SELECT 1 FROM orders WHERE id = $1', [id])).toHaveLength(1);
    expect(compare.tables.filter((t) => t.status !== 'ok')).toEqual([]);
    expect(await sql(rig.sandbox.greenUrl, 'SELECT unnest($1::bigint[]) AS id EXCEPT SELECT id FROM orders', [stats.acknowledged])).toEqual([]);
  });

  it('PgBouncer unreachable at switchover: refused before anything is recorded or frozen', async () => {
    await stopPgbouncer(rig.sandbox.pgbouncer.pidFile);
    try {
      await expect(_switchover(rig.deps)).rejects.toMatchObject({
        message: expect.stringMatching(/^switchover not started: cannot connect to pgbouncer admin console \(pgbadmin@127\.0\.0\.1:\d+\/pgbouncer\): connection refused$/),
        hint: expect.stringMatching(/^Nothing was changed: blue still serves and nothing was paused or frozen\./),
      });
      expect((await _status(rig.deps)).phase).toBe('ready');
      expect(await sql(rig.sandbox.blueUrl, 'SELECT frozen FROM bluegreen.write_guard')).toEqual([{ frozen: false }]);
    } finally {
      await restartPgbouncer(rig.sandbox.pgbouncer, rig.sandbox.user);
    }
    const again = await _switchover(rig.deps);
    expect(again.error).toBeUndefined();
  });

  it('pgbench through PgBouncer for a whole switchover and rollback: zero failed transactions', async () => {
    (await import('node:fs')).writeFileSync(path.join(rig.dir, 'pgbench.sql'), `INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1 + (random() * 99)::int, 'PGB', 'buy', 1);\n`);
    const pgbench = execa(findTool('pgbench', rig.sandbox.blue.major), ['-n', '-h', '127.0.0.1', '-p', String(rig.sandbox.pgbouncer.port), '-U', rig.sandbox.appUser, '-c', '4', '-j', '2', '-R', '200', '-T', '8',
      '-f', path.join(rig.dir, 'pgbench.sql'), 'app'], { env: { PGPASSWORD: rig.sandbox.appPassword }, reject: false, all: true });
    await new Promise((r) => setTimeout(r, 2000));
    expect((await _rollback(rig.deps)).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await _switchover(rig.deps)).ok).toBe(true);
    const r = await pgbench;
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).not.toMatch(/aborted/);
    expect(r.all).toMatch(/number of failed transactions: 0 /);
  });
});

describe('faults with bad surroundings', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ config: { mode: 'replicate', dumpDir: '/etc/hostname/dumps', migrations: { command: 'echo "connecting to $DATABASE_URL with $PGPASSWORD" >&2; exit 4' } } });
  });
  afterAll(() => rig?.stop());

  it('an unwritable dump folder is a preflight block (exit 3), nothing touched', async () => {
    const r = await bluegreen(['clone', '--config', rig.configFile], { env: rig.env });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('✖ dumpDir /etc/hostname/dumps: /etc/hostname is a file, not a folder');
    expect(await objects(rig.sandbox.blueUrl)).toEqual([]);
  });

  it('a failing child process that prints the password: redacted everywhere we write', async () => {
    const file = rig.configFile;
    const json = JSON.parse(readFileSync(file, 'utf8'));
    json.dumpDir = path.join(rig.dir, 'dumps');
    (await import('node:fs')).writeFileSync(file, JSON.stringify(json));
    expect((await bluegreen(['clone', '--config', file], { env: rig.env })).exitCode).toBe(0);
    const r = await bluegreen(['migrate', '--config', file], { env: rig.env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('the migration command failed on a scratch copy of green (exit 4), before anything ran on green itself');
    expect(r.stderr).toContain('connecting to postgres://postgres:****@127.0.0.1');
    const secrets = [rig.sandbox.green.password, rig.sandbox.blue.password, rig.sandbox.pgbouncer.adminPassword];
    const stateDir = path.join(rig.dir, '.bluegreen');
    const written = [r.stdout, r.stderr, ...readdirSync(stateDir).filter((f) => f.endsWith('.json') || f.endsWith('.log')).map((f) => readFileSync(path.join(stateDir, f), 'utf8'))];
    for (const text of written) for (const secret of secrets) expect(text.includes(secret)).toBe(false);
  });
});
