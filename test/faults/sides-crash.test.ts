/**
 * A side's failures the infrastructure file does not cover: green crashed (immediate) and restarted
 * inside a switchover's pause, blue crashed during the clone's stream, and green's disk full during the
 * clone (its data folder on a small tmpfs, its WAL elsewhere, so tables hit "No space left on device"
 * while the server stays up, as a full data volume does). Each ends with traffic on exactly one
 * database, every acknowledged write on it, nothing of ours holding WAL on blue, and a message saying
 * what happened and what to do. Durable clusters (fsync, synchronous_commit, full_page_writes on).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _abort } from '../../src/commands/abort.js';
import { _clone } from '../../src/commands/clone.js';
import { _status } from '../../src/commands/status.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { restartPgbouncer } from '../../src/sandbox/pgbouncer.js';
import { _reseed } from '../../src/commands/reseed.js';
import { startStoppedCluster, stopCluster } from '../../src/sandbox/cluster.js';
import { missingOrders, type Rig, sql, startRig } from '../integration/helpers.js';
import { ackWriter, faultAt, killAndRestartCluster, sleep } from './fault-kit.js';

const ourSlots = (url: string) => sql<{ slot_name: string }>(url, `SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'bluegreen%'`);

/** Exactly one side takes the application's writes through PgBouncer, and it holds this one. */
async function writesLandOn(rig: Rig, url: string): Promise<void> {
  const [row] = await sql<{ id: string }>(rig.sandbox.appUrl, `INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'ONE', 'buy', 1) RETURNING id`);
  expect(await sql(url, 'SELECT 1 FROM orders WHERE id = $1', [row.id])).toHaveLength(1);
}

describe('green crashed inside the pause (durable clusters, a writer recording acknowledgements)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate', migrations: undefined, switchover: { timeoutMs: 20000 } } });
    expect((await _clone(rig.deps)).error).toBeUndefined();
  });
  afterAll(() => rig?.stop());

  it("green killed -9 (every process) and restarted during the drain: undone, blue serves with every acknowledged write, the retry works", async () => {
    const writer = ackWriter(rig.sandbox.appUrl);
    await sleep(500);
    const fault = faultAt('Waiting for green to apply', () => killAndRestartCluster(rig.sandbox.green, rig.sandbox.user));
    const result = await _switchover({ ...rig.deps, progress: fault.progress });
    await fault.injected();
    await sleep(300);
    const stats = await writer.stop();
    expect(result.error?.message).toMatch(/^switchover aborted at [a-z-]+/);
    expect(result.error?.hint).toMatch(/blue still serves; nothing was lost/);
    expect(result.serving).toBe('blue');
    expect((await _status(rig.deps)).phase).toBe('ready');
    expect(stats.acknowledged.length).toBeGreaterThan(20);
    await writesLandOn(rig, rig.sandbox.blueUrl);
    expect(await missingOrders(rig.sandbox.blueUrl, stats.acknowledged)).toEqual([]);
    // Green is still frozen: the application cannot write there.
    const appOnGreen = `postgres://${rig.sandbox.appUser}:${encodeURIComponent(rig.sandbox.appPassword)}@127.0.0.1:${rig.sandbox.green.port}/${rig.sandbox.database}`;
    await expect(sql(appOnGreen, `INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'X', 'buy', 1)`)).rejects.toThrow();
    const again = await _switchover(rig.deps);
    expect(again.error).toBeUndefined();
    await writesLandOn(rig, rig.sandbox.greenUrl);
    expect(await missingOrders(rig.sandbox.greenUrl, stats.acknowledged)).toEqual([]);
  });
  it("PgBouncer killed inside a rollback's pause and down for 8 s: undone (a dead PgBouncer holds no pause; its ini names green again), green serves with every acknowledged write once it is back, and the retry works", async () => {
    const writer = ackWriter(rig.sandbox.appUrl);
    await sleep(500);
    let back: Promise<void> | undefined;
    const fault = faultAt('Waiting for blue to apply', async () => {
      const pid = Number(readFileSync(rig.sandbox.pgbouncer.pidFile, 'utf8').trim());
      process.kill(pid, 'SIGKILL');
      back = sleep(8000).then(async () => {
        rmSync(rig.sandbox.pgbouncer.pidFile, { force: true });
        await restartPgbouncer(rig.sandbox.pgbouncer, rig.sandbox.user);
      });
    });
    const result = await _rollback({ ...rig.deps, progress: fault.progress });
    expect(result.error?.message).toMatch(/^rollback aborted at flip: cannot connect to pgbouncer admin console .*connection refused\n  undo: pointer back to green: done; /);
    expect(result.error?.hint).toMatch(/green still serves; nothing was lost\. Replication green → blue keeps running\. Retry `bluegreen rollback`\./);
    expect(result.serving).toBe('green');
    await back;
    await sleep(500);
    const stats = await writer.stop();
    expect(stats.acknowledged.length).toBeGreaterThan(20);
    await writesLandOn(rig, rig.sandbox.greenUrl);
    expect(await missingOrders(rig.sandbox.greenUrl, stats.acknowledged)).toEqual([]);
    expect((await _status(rig.deps)).phase).toBe('switched-over');
    const again = await _rollback(rig.deps);
    expect(again.error).toBeUndefined();
    await writesLandOn(rig, rig.sandbox.blueUrl);
    expect(await missingOrders(rig.sandbox.blueUrl, stats.acknowledged)).toEqual([]);
  });
  it('green, then blue, killed -9 and restarted during the window: replication both ways resumes by itself, status says so, the rollback keeps every acknowledged write', async () => {
    expect((await _switchover(rig.deps)).error).toBeUndefined();
    const writer = ackWriter(rig.sandbox.appUrl);
    await sleep(500);
    await killAndRestartCluster(rig.sandbox.green, rig.sandbox.user);
    await sleep(1000);
    await killAndRestartCluster(rig.sandbox.blue, rig.sandbox.user);
    await sleep(1000);
    let reverse: { running?: boolean } | undefined;
    for (let i = 0; i < 50 && !reverse?.running; i++) {
      await sleep(200);
      reverse = (await _status(rig.deps)).replication.find((r) => r.direction === 'green → blue');
    }
    expect(reverse).toMatchObject({ running: true });
    const result = await _rollback(rig.deps);
    await sleep(300);
    const stats = await writer.stop();
    expect(result.error).toBeUndefined();
    expect(result.serving).toBe('blue');
    expect(stats.acknowledged.length).toBeGreaterThan(20);
    await writesLandOn(rig, rig.sandbox.blueUrl);
    expect(await missingOrders(rig.sandbox.blueUrl, stats.acknowledged)).toEqual([]);
  });
  it('a re-seed cut short after emptying blue (green stopped): nothing puts traffic on the emptied blue, not even --accept-data-loss; the next reseed starts over and the rollback keeps every acknowledged write', async () => {
    expect((await _switchover(rig.deps)).error).toBeUndefined();
    const writer = ackWriter(rig.sandbox.appUrl);
    await sleep(300);
    // An operator dropped the reverse slot by hand (its subscription disabled first, past the freeze's guard).
    const [{ subname }] = await sql<{ subname: string }>(rig.sandbox.blueUrl, `SELECT subname FROM pg_subscription WHERE subname LIKE 'bluegreen_rev%'`);
    await sql(rig.sandbox.blueUrl, `SET bluegreen.allow_writes = on; ALTER SUBSCRIPTION ${subname} DISABLE`);
    // The walsender on green lets go of the slot a moment after the subscription is disabled.
    for (let i = 0; i < 100; i++) {
      const [{ active }] = await sql<{ active: boolean }>(rig.sandbox.greenUrl, 'SELECT active FROM pg_replication_slots WHERE slot_name = $1', [subname]);
      if (!active) break;
      await sleep(50);
    }
    await sql(rig.sandbox.greenUrl, `SELECT pg_drop_replication_slot($1)`, [subname]);
    const fault = faultAt('Subscribing blue to green again', () => stopCluster(rig.sandbox.green, rig.sandbox.user, 'immediate'));
    const cut = await _reseed({ ...rig.deps, progress: fault.progress });
    await fault.injected();
    expect(cut.error?.message).toMatch(/^reseed failed at subscribe-with-copy: /);
    expect(cut.error?.hint).toMatch(/Traffic still goes to green \(a re-seed never moves it\)\. Blue's copies were emptied \(.*\) and are NOT whole again: blue must not take traffic/);
    expect((await _status(rig.deps)).window).toMatchObject({ verdict: 'lossy', reason: expect.stringMatching(/did not finish/) });
    expect((await _status(rig.deps)).advice).toMatch(/^green serves but does not answer \(.*\): clients get errors until it is back\. Bring it back: blue cannot serve until a re-seed finishes\. a re-seed of blue started at .* did not finish: blue's copies were emptied at .* and are not whole again\. Traffic stays on green\. Run `bluegreen reseed`/);
    await expect(_rollback(rig.deps, { acceptDataLoss: true })).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/^a re-seed of blue started at .* did not finish/) });
    await startStoppedCluster(rig.sandbox.green, rig.sandbox.user);
    await sleep(500);
    // Green back: the rollback still refuses (blue is not whole), the reseed starts over and finishes.
    await expect(_rollback(rig.deps)).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/did not finish/) });
    const again = await _reseed(rig.deps);
    expect(again.error).toBeUndefined();
    expect(again.steps[0].detail).toMatch(/^an earlier re-seed did not finish \(started .*, blue's copies emptied at .*\): starting over$/);
    const back = await _rollback(rig.deps);
    await sleep(300);
    const stats = await writer.stop();
    expect(back.error).toBeUndefined();
    expect(stats.acknowledged.length).toBeGreaterThan(20);
    await writesLandOn(rig, rig.sandbox.blueUrl);
    expect(await missingOrders(rig.sandbox.blueUrl, stats.acknowledged)).toEqual([]);
  });
});

describe('faults during the clone (durable clusters, a writer recording acknowledgements)', () => {
  let rig: Rig;
  let disk: string | undefined;
  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate', migrations: undefined } });
    // Rows enough that a small disk fills while they stream (about 40 MB).
    await sql(rig.sandbox.blueUrl, `CREATE TABLE ballast (id bigserial PRIMARY KEY, filler text NOT NULL)`);
    await sql(rig.sandbox.blueUrl, `INSERT INTO ballast (filler) SELECT repeat(md5(g::text), 40) FROM generate_series(1, 30000) g`);
  });
  afterAll(async () => {
    if (disk) {
      await stopCluster(rig.sandbox.green, rig.sandbox.user);
      execFileSync('umount', ['-l', disk]);
    }
    await rig?.stop();
  });

  it("blue killed -9 (every process) and restarted during the stream: the clone fails saying so; blue serves with every acknowledged write; abort drops what is left; the next clone works", async () => {
    const writer = ackWriter(rig.sandbox.appUrl);
    await sleep(500);
    const fault = faultAt("Streaming blue's rows", () => killAndRestartCluster(rig.sandbox.blue, rig.sandbox.user));
    const result = await _clone({ ...rig.deps, progress: fault.progress });
    await fault.injected();
    await sleep(300);
    const stats = await writer.stop();
    expect(result.ok).toBe(false);
    expect(result.error?.message).toMatch(/^clone failed at [a-z-]+: /);
    expect(result.error?.hint).toMatch(/Blue serves\./);
    expect(stats.acknowledged.length).toBeGreaterThan(20);
    await writesLandOn(rig, rig.sandbox.blueUrl);
    expect(await missingOrders(rig.sandbox.blueUrl, stats.acknowledged)).toEqual([]);
    // Whatever the failure path could not drop while blue restarted, abort drops: nothing of ours keeps WAL on blue.
    if ((await ourSlots(rig.sandbox.blueUrl)).length) expect((await _abort(rig.deps)).error).toBeUndefined();
    expect(await ourSlots(rig.sandbox.blueUrl)).toEqual([]);
    const again = await _clone(rig.deps);
    expect(again.error).toBeUndefined();
    expect(await missingOrders(rig.sandbox.greenUrl, stats.acknowledged)).toEqual([]);
  });

  it("green's disk full during the clone: the clone fails naming the full disk; blue serves with every acknowledged write and keeps no slot; with room again the next clone works", async () => {
    if ((await _status(rig.deps)).phase === 'ready') expect((await _abort(rig.deps)).error).toBeUndefined();
    disk = await greenOnSmallDisk(rig, 25);
    const writer = ackWriter(rig.sandbox.appUrl);
    await sleep(300);
    const result = await _clone(rig.deps);
    await sleep(300);
    const stats = await writer.stop();
    expect(result.ok).toBe(false);
    expect(result.error?.message).toMatch(/^clone failed at [a-z-]+: green: .*No space left on device \(SQLSTATE 53100\)/);
    expect(result.error?.hint).toMatch(/^Check free disk space\. Blue serves\. The replication slot and publication on blue were dropped\./);
    expect(stats.refused).toBe(0);
    await writesLandOn(rig, rig.sandbox.blueUrl);
    expect(await missingOrders(rig.sandbox.blueUrl, stats.acknowledged)).toEqual([]);
    expect(await ourSlots(rig.sandbox.blueUrl)).toEqual([]);
    // The operator grows the volume; the clone re-creates green.
    execFileSync('mount', ['-o', 'remount,size=2g', disk]);
    const again = await _clone(rig.deps);
    expect(again.error).toBeUndefined();
    expect(await missingOrders(rig.sandbox.greenUrl, stats.acknowledged)).toEqual([]);
    const [{ n }] = await sql<{ n: string }>(rig.sandbox.greenUrl, 'SELECT count(*) AS n FROM ballast');
    expect(Number(n)).toBe(30000);
  });
});

/**
 * Moves green's data folder onto a tmpfs with `freeMb` to spare (its database dropped first) (its WAL stays on the real disk, behind a
 * symlink, so the server itself keeps running when tables cannot grow). Returns the mount point.
 */
async function greenOnSmallDisk(rig: Rig, freeMb: number): Promise<string> {
  const green = rig.sandbox.green;
  const user = rig.sandbox.user;
  // The clone drops green's database and makes it again: dropped now, so the room left is what the clone gets.
  const admin = rig.sandbox.greenUrl.replace(`/${rig.sandbox.database}`, '/postgres');
  await sql(admin, `DROP DATABASE IF EXISTS ${rig.sandbox.database} WITH (FORCE)`);
  await stopCluster(green, user, 'fast');
  const walDir = `${green.dataDir}-wal`;
  renameSync(path.join(green.dataDir, 'pg_wal'), walDir);
  symlinkSync(walDir, path.join(green.dataDir, 'pg_wal'));
  const usedMb = Math.ceil(Number(execFileSync('du', ['-sk', green.dataDir], { encoding: 'utf8' }).split('\t')[0]) / 1024);
  const mount = mkdtempSync(path.join(os.tmpdir(), 'green-disk-'));
  const owner = user ? `,uid=${user.uid},gid=${user.gid}` : '';
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${usedMb + freeMb}m,mode=0700${owner}`, 'tmpfs', mount]);
  execFileSync('cp', ['-a', `${green.dataDir}/.`, mount]);
  renameSync(green.dataDir, `${green.dataDir}.on-disk`);
  symlinkSync(mount, green.dataDir);
  await startStoppedCluster(green, user);
  return mount;
}
