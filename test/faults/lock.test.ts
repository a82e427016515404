/**
 * The controller's lock does not depend on one side: a lock file in the state folder (named whole:
 * host, pid, user, command, start) plus blue's advisory lock where blue answers. A second controller
 * is refused naming the holder (exit 3), a dead holder's lock is taken over and said so, and with blue
 * stopped the lock file alone holds. Fast clusters: no durability asserted.
 */
import { execa } from 'execa';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlled } from '../../src/commands/context.js';
import { _resume } from '../../src/commands/resume.js';
import { LOCK_FILE } from '../../src/adapters/lock-file.js';
import { silentProgress, type Progress } from '../../src/adapters/progress.js';
import { readAudit } from '../../src/adapters/state-store.js';
import { startStoppedCluster, stopCluster } from '../../src/sandbox/cluster.js';
import { bluegreen } from '../e2e/run-cli.js';
import { type Rig, startRig } from '../integration/helpers.js';

/** A progress port that keeps its info lines, where the lock says what it did. */
function noting(): { progress: Progress; notes: string[] } {
  const notes: string[] = [];
  return { progress: { ...silentProgress, info: (t) => void notes.push(t) }, notes };
}

describe('the controller lock', () => {
  let rig: Rig;
  let lockFile: string;
  beforeAll(async () => {
    rig = await startRig({ seed: false });
    lockFile = path.join(rig.config.stateDir, LOCK_FILE);
  });
  afterAll(() => rig?.stop());

  it('a second controller (another process) is refused, exit 3, naming host, pid, user and command', async () => {
    await controlled(rig.deps, 'switchover', async () => {
      expect(statSync(lockFile).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ host: os.hostname(), pid: process.pid, user: os.userInfo().username, command: 'switchover', startedAt: expect.any(String) });
      const second = await bluegreen(['resume', '--config', rig.configFile], { env: rig.env });
      expect(second.exitCode).toBe(3);
      expect(second.stderr).toContain(`another bluegreen controller is running: switchover run by ${os.userInfo().username} on ${os.hostname()}, pid ${process.pid}, since `);
    });
    expect(existsSync(lockFile)).toBe(false);
  });

  it('a lock left by a dead process on this host is taken over, and said so; one from another host is not', async () => {
    const dead = execa('true');
    await dead;
    writeFileSync(lockFile, JSON.stringify({ host: os.hostname(), pid: dead.pid, user: 'alice', command: 'migrate', startedAt: '2026-01-01T00:00:00.000Z', token: 'dead' }), { mode: 0o600 });
    const { progress, notes } = noting();
    const resumed = await _resume({ ...rig.deps, progress });
    expect(resumed.outcome).toBe('nothing-to-resume');
    expect(notes).toContain(`Took over the controller lock of migrate run by alice on ${os.hostname()}, pid ${dead.pid}, since 2026-01-01T00:00:00.000Z: that process no longer runs.`);
    expect(existsSync(lockFile)).toBe(false);

    // Another host's pid cannot be checked from here: refused, saying how to clear it if that host is gone.
    writeFileSync(lockFile, JSON.stringify({ host: 'bastion-2.example.com', pid: 4242, user: 'bob', command: 'rollback', startedAt: '2026-01-01T00:00:00.000Z', token: 'other' }), { mode: 0o600 });
    await expect(_resume(rig.deps)).rejects.toMatchObject({
      exitCode: 3,
      message: `another bluegreen controller is running: rollback run by bob on bastion-2.example.com, pid 4242, since 2026-01-01T00:00:00.000Z (lock file ${lockFile})`,
      hint: expect.stringContaining(`remove ${lockFile}`),
    });
    expect(existsSync(lockFile)).toBe(true);
  });

  it('with blue stopped the lock file alone holds, and the output and the audit log say so', async () => {
    rmSync(lockFile, { force: true });
    await stopCluster(rig.sandbox.blue, rig.sandbox.user);
    try {
      const { progress, notes } = noting();
      const ran = await controlled({ ...rig.deps, progress }, 'status-probe', async () => {
        // Held: a second controller is refused by the file, blue being down.
        await expect(controlled(rig.deps, 'abort', async () => 'ran twice')).rejects.toThrow(new RegExp(`another bluegreen controller is running: status-probe run by \\S+ on ${os.hostname()}, pid ${process.pid}`));
        return 'ran';
      });
      expect(ran).toBe('ran');
      expect(notes.find((n) => n.startsWith('Blue is unreachable'))).toMatch(/^Blue is unreachable \(cannot connect to blue .*connection refused\): holding the controller lock file alone/);
      expect(readAudit(rig.config.stateDir).filter((e) => e.command === 'status-probe').map((e) => [e.outcome, e.detail])).toEqual([
        ['started', expect.stringMatching(/^lock file only: blue unreachable/)],
        ['ok', undefined],
      ]);
    } finally {
      await startStoppedCluster(rig.sandbox.blue, rig.sandbox.user);
    }
  });
});
