/**
 * The managed profile: the tool connects as an admin role shaped like a managed service's (no
 * SUPERUSER, no pg_read_all_data, SCRAM everywhere), blue on 15 and green on 17, as on a service
 * upgrading its major version. Preflight must say, per capability, what the cutover will do there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _preflight } from '../../src/commands/preflight.js';
import { _status } from '../../src/commands/status.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { createDeps } from '../../src/commands/context.js';
import { silentProgress } from '../../src/adapters/progress.js';
import { missingOrders, type Rig, sql, startRig } from './helpers.js';

describe('managed profile: blue 15 → green 17 as an admin without SUPERUSER', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ blueMajor: 15, greenMajor: 17, managed: true, config: { mode: 'replicate' } });
  });
  afterAll(() => rig?.stop());

  it('the role is what the profile promises: no superuser, pg_authid unreadable, trust nowhere', async () => {
    const url = rig.sandbox.managedAdmin!.blueUrl;
    const [role] = await sql<{ rolsuper: boolean; authid: boolean }>(url, `SELECT rolsuper, has_table_privilege('pg_authid', 'SELECT') AS authid FROM pg_roles WHERE rolname = current_user`);
    expect(role).toEqual({ rolsuper: false, authid: false });
    // The socket asks for a password too: a client without one is refused.
    await expect(sql(`postgres://postgres@/postgres?host=${encodeURIComponent(rig.sandbox.blue.socketDir)}&port=${rig.sandbox.blue.port}`, 'SELECT 1')).rejects.toThrow(/password/);
  });

  it('preflight reports each capability instead of dying at pg_authid', async () => {
    const result = await _preflight(rig.deps);
    const status = Object.fromEntries(result.findings.map((f) => [f.check, f.status]));
    expect(result.findings.some((f) => /permission denied for table pg_authid/.test(f.message))).toBe(false);
    // What the role has works as with a superuser.
    expect(status).toMatchObject({ 'blue-replication-slot': 'ok', 'blue-publication': 'ok', 'green-subscription': 'ok', 'blue-end-sessions': 'ok', 'green-replication-slot': 'ok' });
    // What it lacks has a strategy with a stated cost: DDL by catalog snapshots, a guard its own role passes.
    expect(status).toMatchObject({ 'blue-ddl-log': 'warn', 'blue-ddl-guard': 'warn', 'blue-write-guard': 'warn', 'blue-replica-role': 'warn' });
    // A 15 blue cannot host the reverse subscription without a superuser: declared before anything starts.
    expect(status).toMatchObject({ 'blue-subscription': 'warn', 'rollback-lossless': 'warn' });
    // pg_authid unreadable: the application's login role would reach green without a password.
    const roles = result.findings.find((f) => f.check === 'blue-roles')!;
    expect(roles).toMatchObject({ status: 'block', message: expect.stringMatching(/would have none on green: app$/) });
    expect(result.ok).toBe(false);
    expect(result.findings.filter((f) => f.status === 'block').map((f) => f.check)).toEqual(['blue-roles']);
  });

  it('with the password of each login role named by the operator, nothing blocks; the value is never shown', async () => {
    process.env.BG_TEST_ROLE_PASSWORD_app = rig.sandbox.appPassword;
    try {
      const deps = createDeps({ ...rig.config, roles: { passwordsEnv: 'BG_TEST_ROLE_PASSWORD_' } }, silentProgress);
      const result = await _preflight(deps);
      expect(result.findings.filter((f) => f.status === 'block')).toEqual([]);
      expect(result.findings.find((f) => f.check === 'blue-roles')).toMatchObject({ status: 'warn' });
      expect(JSON.stringify(result)).not.toContain(rig.sandbox.appPassword);
    } finally {
      delete process.env.BG_TEST_ROLE_PASSWORD_app;
    }
  });
  it('roles.requireOnGreen: nothing to copy and no password asked for; preflight blocks until each role is on green', async () => {
    const deps = createDeps({ ...rig.config, roles: { requireOnGreen: true } }, silentProgress);
    const missing = await _preflight(deps);
    expect(missing.findings.find((f) => f.check === 'green-roles')).toMatchObject({ status: 'block', message: expect.stringMatching(/missing on green: app$/) });
    expect(missing.findings.find((f) => f.check === 'blue-roles')).toBeUndefined();
    // Made on green as a service's console would, with its password: nothing blocks.
    await sql(rig.sandbox.greenUrl.replace(/\/app(\?|$)/, '/postgres$1'), `CREATE ROLE app LOGIN PASSWORD 'made-on-green'`);
    try {
      const present = await _preflight(deps);
      expect(present.findings.find((f) => f.check === 'green-roles')).toMatchObject({ status: 'ok' });
      expect(present.findings.filter((f) => f.status === 'block')).toEqual([]);
    } finally {
      await sql(rig.sandbox.greenUrl.replace(/\/app(\?|$)/, '/postgres$1'), 'DROP ROLE app');
    }
  });
});

describe('managed profile: the cutover as far as the role allows', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ blueMajor: 15, greenMajor: 17, managed: true, config: { mode: 'replicate' } });
    process.env.BG_TEST_ROLE_PASSWORD_app = rig.sandbox.appPassword;
  });
  afterAll(async () => {
    delete process.env.BG_TEST_ROLE_PASSWORD_app;
    await rig?.stop();
  });

  it('clones as the admin with a writer running; the switchover refuses a lossy rollback before pausing anything, then runs when it is accepted: every acknowledged write kept', async () => {
    const deps = createDeps({ ...rig.config, roles: { passwordsEnv: 'BG_TEST_ROLE_PASSWORD_' } }, silentProgress);
    const load = startWriteLoad(rig.sandbox.appUrl, 100, 2);
    try {
      const clone = await _clone(deps);
      expect(clone.error).toBeUndefined();
      expect(clone.steps.find((s) => s.name === 'copy-roles')?.detail).toMatch(/1 passwords from the operator/);
      // The application's role logs in on green with the password the operator named.
      const greenAsApp = `postgres://app:${encodeURIComponent(rig.sandbox.appPassword)}@127.0.0.1:${rig.sandbox.green.port}/app`;
      expect(await sql(greenAsApp, 'SELECT count(*) FROM orders')).toHaveLength(1);
      const state = await deps.store.load();
      expect(state?.privileges?.rollbackLossless).toBe(false);
      await expect(_switchover(deps)).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/rollback after this switchover would not be lossless/) });
      // Refused before the pause: blue still serves and takes writes.
      expect((await _status(deps)).serving).toBe('blue');
      // The operator gives up the lossless rollback knowingly: the switchover runs without a reverse direction.
      const flip = await _switchover(deps, { acceptDataLoss: true });
      expect(flip.error).toBeUndefined();
      expect(flip.steps.map((s) => s.name)).not.toContain('subscribe-reverse');
      const status = await _status(deps);
      expect(status.serving).toBe('green');
      expect(status.privileges?.rollbackLossless).toBe(false);
    } finally {
      await load.stop();
    }
    const acknowledged = load.acknowledged();
    expect(acknowledged.length).toBeGreaterThan(0);
    // Every write the application saw acknowledged, on blue before the flip or on green after, is on green.
    expect(await missingOrders(rig.sandbox.greenUrl, acknowledged)).toEqual([]);
  });

  it('after a switchover that gave up reverse replication, rollback says what it gives up, refuses, then puts traffic on blue with green frozen', async () => {
    const deps = createDeps({ ...rig.config, roles: { passwordsEnv: 'BG_TEST_ROLE_PASSWORD_' } }, silentProgress);
    expect((await _rollback(deps, { dryRun: true })).steps[0]).toMatchObject({ name: 'verdict', detail: expect.stringMatching(/^WOULD LOSE: every write green took since the switchover/) });
    await expect(_rollback(deps)).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/^rolling back gives up every write green took since the switchover at \d{4}-.* \(the switchover gave up replication green → blue/) });
    const back = await _rollback(deps, { acceptDataLoss: true });
    expect(back.error).toBeUndefined();
    expect(back.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['pause:ok', 'freeze-green:ok', 'sequences:ok', 'open-blue:ok', 'detach-from-green:skipped', 'flip:ok', 'resume:ok']);
    expect((await _status(deps)).serving).toBe('blue');
    // Blue takes the application's writes again, its sequences set from green's: no id green handed out
    // (its given-up rows keep theirs) is handed out again. Green takes none.
    const [{ max }] = await sql<{ max: string }>(rig.sandbox.greenUrl, 'SELECT max(id)::text AS max FROM orders');
    const blueAsApp = `postgres://app:${encodeURIComponent(rig.sandbox.appPassword)}@127.0.0.1:${rig.sandbox.pgbouncer.port}/app`;
    const [{ id }] = await sql<{ id: string }>(blueAsApp, `INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'BACK', 'buy', 1) RETURNING id::text AS id`);
    expect(BigInt(id)).toBeGreaterThan(BigInt(max));
    const greenAsApp = `postgres://app:${encodeURIComponent(rig.sandbox.appPassword)}@127.0.0.1:${rig.sandbox.green.port}/app`;
    await expect(sql(greenAsApp, `INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'STALE', 'buy', 1)`)).rejects.toThrow(/frozen/);
  });
});
