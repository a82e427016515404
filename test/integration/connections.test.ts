/**
 * Production connections on the sandbox: TLS everywhere (a CA made with openssl, `hostssl … scram-sha-256`
 * only, verify-full), a superuser password with every character that needs escaping, the password only
 * in a passfile, a controller that reaches blue at another address than PgBouncer does, three PgBouncers
 * behind one pointer, and a command pointer. Each with a writer through PgBouncer counting its writes.
 * Durable clusters (fsync, synchronous_commit, full_page_writes on) wherever a writer's acknowledgements are checked; fast clusters for the command pointer (no durability asserted there).
 */
import { chownSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { _clone } from '../../src/commands/clone.js';
import { createDeps, type Deps } from '../../src/commands/context.js';
import { _finalize } from '../../src/commands/finalize.js';
import { _migrate } from '../../src/commands/migrate.js';
import { _resume } from '../../src/commands/resume.js';
import { _status } from '../../src/commands/status.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { silentProgress } from '../../src/adapters/progress.js';
import { seedTradingApp, startWriteLoad } from '../../src/sandbox/trading-app.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { DEMO_MIGRATIONS } from '../../src/sandbox/demo.js';
import { missingOrders, sql } from './helpers.js';
import { bluegreen } from '../e2e/run-cli.js';
import { ackWriter, faultAt, sleep } from '../faults/fault-kit.js';
import { restartPgbouncer } from '../../src/sandbox/pgbouncer.js';

const HOSTILE = `p@ss:w/o%rd?&= 'q' \\b`;

function depsFor(sandbox: Sandbox, dir: string, json: Record<string, unknown>): Deps {
  const file = path.join(dir, `bluegreen-${Math.random().toString(36).slice(2)}.config.json`);
  writeFileSync(file, JSON.stringify(json, null, 2));
  return createDeps(parseConfig(JSON.stringify(json), file, {}), silentProgress);
}

/** Every file the tool wrote in its state folder, read back: no secret may be in any. */
function stateTexts(dir: string): string[] {
  return readdirSync(dir).filter((f) => /\.(json|log)$/.test(f)).map((f) => readFileSync(path.join(dir, f), 'utf8'));
}

async function cutoverWithWriter(sandbox: Sandbox, deps: Deps): Promise<{ acknowledged: number; pauses: Array<number | undefined> }> {
  const load = startWriteLoad(sandbox.appUrl, 100, 2);
  try {
    const clone = await _clone(deps);
    expect(clone.error).toBeUndefined();
    await _migrate(deps);
    const pauses: Array<number | undefined> = [];
    for (const flip of [_switchover, _rollback, _switchover]) {
      await new Promise((r) => setTimeout(r, 300));
      const r = await flip(deps);
      expect(r.error).toBeUndefined();
      pauses.push(r.writePauseMs);
    }
    await new Promise((r) => setTimeout(r, 300));
    const stats = await load.stop();
    expect(stats.refused).toBe(0);
    expect(await missingOrders(sandbox.greenUrl, stats.acknowledged)).toEqual([]);
    expect((await _finalize(deps, { force: true })).error).toBeUndefined();
    return { acknowledged: stats.acknowledged.length, pauses };
  } finally {
    await load.stop();
  }
}

describe('TLS with verify-full and a password that needs escaping everywhere', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ fast: false, tls: true, superuserPassword: HOSTILE });
    await seedTradingApp(sandbox.blueUrl, 0.1, sandbox.appUser);
  });
  afterAll(() => sandbox?.stop());

  it('a full replicate-mode cutover, rollback and second switchover lose nothing; no secret is written anywhere', async () => {
    // Plain TCP is refused: TLS is really required.
    await expect(sql(sandbox.blueUrl.replace(/\?.*$/, '?sslmode=disable'), 'SELECT 1')).rejects.toThrow(/pg_hba\.conf rejects connection|no encryption/);
    const dir = path.join(sandbox.dir, 'controller');
    (await import('node:fs')).mkdirSync(dir);
    (await import('node:fs')).cpSync(DEMO_MIGRATIONS, path.join(dir, 'migrations'), { recursive: true });
    const pw = encodeURIComponent(HOSTILE);
    const deps = depsFor(sandbox, dir, {
      blue: `postgres://postgres:${pw}@127.0.0.1:${sandbox.blue.port}/app${sandbox.urlParams}`,
      green: `host=127.0.0.1 port=${sandbox.green.port} dbname=app user=postgres password='${HOSTILE.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}' sslmode=verify-full sslrootcert=${sandbox.caFile}`,
      mode: 'replicate',
      migrations: { dir: 'migrations' },
      pointer: { type: 'pgbouncer', admin: sandbox.adminUrl, ini: sandbox.pgbouncer.ini, database: 'app' },
    });
    expect(deps.config.secrets).toContain(HOSTILE);
    const { acknowledged, pauses } = await cutoverWithWriter(sandbox, deps);
    console.log(`TLS cutover: ${acknowledged} writes acknowledged, 0 refused, 0 missing; pauses ${JSON.stringify(pauses)} ms`);
    // Through the CLI too: what an operator sees never holds the password, whole or in pieces.
    const cli = await Promise.all([['status'], ['status', '--json'], ['compare'], ['preflight']].map((args) => bluegreen([...args, '--config', deps.config.file])));
    for (const r of cli) {
      expect(r.stderr).not.toMatch(/\n\s+at \S+ \(/);
      for (const text of [r.stdout, r.stderr]) {
        expect(text.includes(HOSTILE)).toBe(false);
        expect(text.includes(pw)).toBe(false);
        expect(text.includes("w/o%rd?&= 'q'")).toBe(false);
      }
    }
    for (const text of stateTexts(deps.config.stateDir)) {
      expect(text.includes(HOSTILE)).toBe(false);
      expect(text.includes(pw)).toBe(false);
    }
  });
});

describe('the password only in a passfile, and a controller address other than the pooler\'s', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    // PgBouncer names blue "localhost"; the controller uses 127.0.0.1.
    sandbox = await startSandbox({ fast: false, tls: true, poolerHost: 'localhost' });
    await seedTradingApp(sandbox.blueUrl, 0.1, sandbox.appUser);
  });
  afterAll(() => sandbox?.stop());

  it('connects with the passfile on the controller and on each server, and flips the pooler to its own address for each side', async () => {
    const dir = path.join(sandbox.dir, 'controller');
    (await import('node:fs')).mkdirSync(dir);
    const controllerPass = path.join(dir, 'pgpass');
    writeFileSync(controllerPass, `127.0.0.1:${sandbox.blue.port}:*:postgres:${sandbox.blue.password}\n127.0.0.1:${sandbox.green.port}:*:postgres:${sandbox.green.password}\n127.0.0.1:${sandbox.pgbouncer.port}:pgbouncer:pgbadmin:${sandbox.pgbouncer.adminPassword}\n`, { mode: 0o600 });
    // The subscriber's server reads its own passfile: one owned by the server's OS user, named by passfile= in the peer address.
    const serverPass = path.join(sandbox.dir, 'server-pgpass');
    writeFileSync(serverPass, `127.0.0.1:${sandbox.blue.port}:*:postgres:${sandbox.blue.password}\n127.0.0.1:${sandbox.green.port}:*:postgres:${sandbox.green.password}\n`, { mode: 0o600 });
    if (sandbox.user) chownSync(serverPass, sandbox.user.uid, sandbox.user.gid);
    const tlsParams = `sslmode=verify-full&sslrootcert=${encodeURIComponent(sandbox.caFile!)}`;
    const side = (port: number, pooler: string) => ({
      url: `postgres://postgres@127.0.0.1:${port}/app?${tlsParams}&passfile=${encodeURIComponent(controllerPass)}`,
      pooler,
      peer: `postgres://postgres@127.0.0.1:${port}/app?${tlsParams}&passfile=${encodeURIComponent(serverPass)}`,
    });
    const deps = depsFor(sandbox, dir, {
      blue: side(sandbox.blue.port, `localhost:${sandbox.blue.port}`),
      green: side(sandbox.green.port, `localhost:${sandbox.green.port}`),
      mode: 'replicate',
      pointer: { type: 'pgbouncer', admin: `postgres://pgbadmin@127.0.0.1:${sandbox.pgbouncer.port}/pgbouncer?${tlsParams}&passfile=${encodeURIComponent(controllerPass)}`, ini: sandbox.pgbouncer.ini, database: 'app' },
    });
    expect(deps.config.blue).not.toContain(sandbox.blue.password);
    expect((await _status(deps)).serving).toBe('blue');
    const { acknowledged } = await cutoverWithWriter(sandbox, deps);
    expect(readFileSync(sandbox.pgbouncer.ini, 'utf8')).toMatch(new RegExp(`^app = host=localhost port=${sandbox.green.port} dbname=app`, 'm'));
    console.log(`passfile cutover: ${acknowledged} writes acknowledged, 0 refused, 0 missing`);
  });
});

describe('three PgBouncers behind one pointer', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ fast: false, pgbouncers: 3 });
    await seedTradingApp(sandbox.blueUrl, 0.1, sandbox.appUser);
  });
  afterAll(() => sandbox?.stop());

  const json = (inis: string[]) => ({
    blue: sandbox.blueUrl,
    green: sandbox.greenUrl,
    mode: 'replicate',
    pointer: { type: 'pgbouncer', database: 'app', instances: sandbox.pgbouncers.map((b, i) => ({ admin: `postgres://pgbadmin:${b.adminPassword}@127.0.0.1:${b.port}/pgbouncer`, ini: inis[i] })) },
  });
  const served = () => Promise.all(sandbox.pgbouncers.map(async (b) => (await sql<{ p: number }>(`postgres://${sandbox.appUser}:${sandbox.appPassword}@127.0.0.1:${b.port}/app`, `SELECT current_setting('port')::int AS p`))[0].p));

  it('one instance failing to take the new target undoes every instance; then all flip as one, each pause reported', async () => {
    const dir = path.join(sandbox.dir, 'controller');
    (await import('node:fs')).mkdirSync(dir);
    // The third instance's pointer.ini is a copy PgBouncer does not read: its RELOAD cannot take the change.
    const stray = path.join(dir, 'stray.ini');
    writeFileSync(stray, readFileSync(sandbox.pgbouncers[2].ini, 'utf8'));
    const broken = depsFor(sandbox, dir, json([sandbox.pgbouncers[0].ini, sandbox.pgbouncers[1].ini, stray]));
    expect((await _clone(broken)).error).toBeUndefined();
    const load = startWriteLoad(sandbox.appUrl, 100, 2);
    try {
      const failed = await _switchover(broken);
      expect(failed.ok).toBe(false);
      expect(failed.error?.message).toMatch(/the flip failed on 1 of 3 PgBouncer instances: 127\.0\.0\.1:\d+: PgBouncer 127\.0\.0\.1:\d+ did not take the new target/);
      expect(failed.error?.message).toMatch(/pointer back to blue: done.*transactions resumed: done/);
      expect(await served()).toEqual([sandbox.blue.port, sandbox.blue.port, sandbox.blue.port]);
      // With the right files, the fleet flips as one.
      const deps = depsFor(sandbox, dir, json(sandbox.pgbouncers.map((b) => b.ini)));
      const ok = await _switchover(deps);
      expect(ok.error).toBeUndefined();
      expect(ok.pausesMs).toHaveLength(3);
      expect(ok.steps.find((s) => s.name === 'resume')?.detail).toMatch(/per instance: .*longest \d+ ms/);
      expect(await served()).toEqual([sandbox.green.port, sandbox.green.port, sandbox.green.port]);
      const stats = await load.stop();
      expect(stats.firstRefusal).toBeUndefined();
      expect(stats.refused).toBe(0);
      expect(await missingOrders(sandbox.greenUrl, stats.acknowledged)).toEqual([]);
      // status reads every instance; when one is changed by hand they disagree, and it says so.
      writeFileSync(sandbox.pgbouncers[1].ini, readFileSync(sandbox.pgbouncers[1].ini, 'utf8').replace(`port=${sandbox.green.port}`, `port=${sandbox.blue.port}`));
      const status = await _status(deps);
      expect(status.serving).toBe('unknown');
      expect(status.pointerError).toMatch(/the PgBouncer instances disagree/);
      expect(status.pointerInstances?.map((i) => i.serving)).toEqual(['green', 'blue', 'green']);
      // resume points every instance back at the side the record says serves.
      expect((await _resume(deps)).error).toBeUndefined();
      expect((await _status(deps)).pointerInstances?.map((i) => i.serving)).toEqual(['green', 'green', 'green']);
      expect(await served()).toEqual([sandbox.green.port, sandbox.green.port, sandbox.green.port]);
    } finally {
      await load.stop();
    }
  });

  it('one instance of the fleet killed -9 and restarted inside a rollback\'s pause: the flip opens its admin connection again and finishes on every instance; every acknowledged write (through the killed one too) is on blue', async () => {
    const deps = depsFor(sandbox, path.join(sandbox.dir, 'controller'), json(sandbox.pgbouncers.map((b) => b.ini)));
    const killed = sandbox.pgbouncers[1];
    const writer = ackWriter(`postgres://${sandbox.appUser}:${encodeURIComponent(sandbox.appPassword)}@127.0.0.1:${killed.port}/app`);
    await sleep(500);
    const fault = faultAt('Waiting for blue to apply', async () => {
      process.kill(Number(readFileSync(killed.pidFile, 'utf8').trim()), 'SIGKILL');
      await sleep(200);
      rmSync(killed.pidFile, { force: true });
      await restartPgbouncer(killed, sandbox.user);
    });
    const result = await _rollback({ ...deps, progress: fault.progress });
    await fault.injected();
    await sleep(300);
    const stats = await writer.stop();
    expect(result.error).toBeUndefined();
    expect(result.serving).toBe('blue');
    expect(result.steps.find((s) => s.name === 'resume')?.detail).toMatch(/BUT the admin connection to PgBouncer 127\.0\.0\.1:\d+ was cut inside the pause and opened again/);
    expect(await served()).toEqual([sandbox.blue.port, sandbox.blue.port, sandbox.blue.port]);
    expect(stats.acknowledged.length).toBeGreaterThan(20);
    expect(await missingOrders(sandbox.blueUrl, stats.acknowledged)).toEqual([]);
  });
});

describe('a command pointer driving a file through shell scripts', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ fast: true });
    await seedTradingApp(sandbox.blueUrl, 0.1, sandbox.appUser);
  });
  afterAll(() => sandbox?.stop());

  it('flips with BLUEGREEN_TARGET_*, reads back with current, and calls flip with the old side to undo', async () => {
    const dir = path.join(sandbox.dir, 'controller');
    (await import('node:fs')).mkdirSync(dir);
    writeFileSync(path.join(dir, 'target'), `127.0.0.1:${sandbox.blue.port}/app\n`);
    writeFileSync(path.join(dir, 'current.sh'), '#!/bin/sh\ncat target\n', { mode: 0o755 });
    writeFileSync(path.join(dir, 'flip.sh'), '#!/bin/sh\n[ -e refuse-green ] && [ "$BLUEGREEN_TARGET" = green ] && { echo "DNS update refused" >&2; exit 3; }\necho "$BLUEGREEN_TARGET_HOST:$BLUEGREEN_TARGET_PORT/$BLUEGREEN_TARGET_DATABASE" > target\necho "$BLUEGREEN_TARGET" >> flips.log\n', { mode: 0o755 });
    const deps = depsFor(sandbox, dir, { blue: sandbox.blueUrl, green: sandbox.greenUrl, mode: 'freeze', pointer: { type: 'command', current: './current.sh', flip: './flip.sh', timeoutMs: 5000 } });
    expect((await _clone(deps)).error).toBeUndefined();
    writeFileSync(path.join(dir, 'refuse-green'), '');
    const refused = await _switchover(deps);
    expect(refused.ok).toBe(false);
    expect(refused.error?.message).toMatch(/pointer\.flip failed \(exit 3\): DNS update refused/);
    expect(readFileSync(path.join(dir, 'flips.log'), 'utf8')).toBe('blue\n');
    expect(readFileSync(path.join(dir, 'target'), 'utf8').trim()).toBe(`127.0.0.1:${sandbox.blue.port}/app`);
    (await import('node:fs')).rmSync(path.join(dir, 'refuse-green'));
    const ok = await _switchover(deps);
    expect(ok.error).toBeUndefined();
    expect(ok.steps.find((s) => s.name === 'pause')?.detail).toMatch(/no pooler to pause/);
    expect(readFileSync(path.join(dir, 'target'), 'utf8').trim()).toBe(`127.0.0.1:${sandbox.green.port}/app`);
    expect((await _status(deps)).serving).toBe('green');
  });
});
