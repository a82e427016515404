/** Fast clusters: no durability asserted. */
import { existsSync, statSync } from 'node:fs';
import { execa } from 'execa';
import { findTool } from '../../src/adapters/pg-binaries.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _abort } from '../../src/commands/abort.js';
import { _preflight } from '../../src/commands/preflight.js';
import { count, type Rig, sql, startRig } from './helpers.js';

describe('clone (freeze mode)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
    await sql(rig.sandbox.blueUrl, `CREATE ROLE reporting NOLOGIN; GRANT SELECT ON orders TO reporting; CREATE SEQUENCE invoice_numbers START 1000; SELECT nextval('invoice_numbers'), nextval('invoice_numbers')`);
  });
  afterAll(() => rig?.stop());

  it('preflight passes on a fresh sandbox and names the major version', async () => {
    const result = await _preflight(rig.deps);
    expect(result.ok).toBe(true);
    expect(result.findings.find((f) => f.check === 'green-empty')?.message).toBe('green\'s database "app" will be created');
    // The sandbox runs without fsync (a faulty environment for durability, on purpose): preflight says so for each side.
    for (const side of ['blue', 'green'])
      expect(result.findings.find((f) => f.check === `${side}-durability`)).toMatchObject({ status: 'warn', message: expect.stringMatching(new RegExp(`^${side}: .*fsync.* off: a crash`)) });
  });

  it('copies rows, sequences and roles, and keeps a readable dump', async () => {
    const result = await _clone(rig.deps);
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    for (const table of ['users', 'accounts', 'positions', 'orders', 'trades', 'api_keys']) {
      expect(await count(rig.sandbox.greenUrl, table), table).toBe(await count(rig.sandbox.blueUrl, table));
    }
    const seq = (url: string) => sql<{ v: string }>(url, `SELECT last_value::text AS v FROM invoice_numbers`);
    expect(await seq(rig.sandbox.greenUrl)).toEqual(await seq(rig.sandbox.blueUrl));
    const roles = await sql<{ rolname: string }>(rig.sandbox.greenUrl, `SELECT rolname FROM pg_roles WHERE rolname IN ('app', 'reporting') ORDER BY 1`);
    expect(roles.map((r) => r.rolname)).toEqual(['app', 'reporting']);
    const grants = await sql(rig.sandbox.greenUrl, `SELECT 1 FROM information_schema.role_table_grants WHERE grantee = 'reporting' AND table_name = 'orders'`);
    expect(grants).toHaveLength(1);
    // The dump is the pre-migration backup: kept, private, and pg_restore can list it.
    expect(result.dump?.tocEntries).toBeGreaterThan(20);
    expect(existsSync(result.dump!.path)).toBe(true);
    expect(statSync(rig.config.dumpDir).mode & 0o777).toBe(0o700);
    const list = await execa(findTool('pg_restore', rig.sandbox.blue.major), ['--list', result.dump!.path]);
    expect(list.stdout).toContain('TABLE DATA public orders');
    // Green did not inherit blue's guard (left out of the restore); it has its own, until the switchover.
    expect(await sql(rig.sandbox.greenUrl, `SELECT frozen, reason FROM bluegreen.write_guard`)).toEqual([{ frozen: true, reason: 'green before switchover' }]);
  });

  it('blue refuses application writes and DDL after the clone, even from a session that turns read-only off', async () => {
    const app = rig.sandbox.appUrl;
    await expect(sql(app, `INSERT INTO users (email, name) VALUES ('x@example.com', 'x')`)).rejects.toThrow(/frozen by pg-bluegreen/);
    // Straight to blue as the app role, bypassing PgBouncer, with every read-only default turned off.
    const direct = `postgres://${rig.sandbox.appUser}:${encodeURIComponent(rig.sandbox.appPassword)}@127.0.0.1:${rig.sandbox.blue.port}/app`;
    await expect(sql(direct, `SET default_transaction_read_only = off; SET transaction_read_only = off; DELETE FROM trades`)).rejects.toThrow(/frozen by pg-bluegreen/);
    await expect(sql(direct, `SET bluegreen.allow_writes = on; TRUNCATE trades`)).rejects.toThrow(/frozen by pg-bluegreen/);
    await expect(sql(direct, `CREATE TABLE sneaky (id int)`)).rejects.toThrow(/cannot execute CREATE TABLE: this database is frozen/);
    // Reads go on.
    expect(await count(app, 'users')).toBeGreaterThan(0);
  });

  it('a second clone is refused while this cutover is under way', async () => {
    await expect(_clone(rig.deps)).rejects.toThrow(/cannot clone while the cutover is ready/);
  });

  it('abort reopens blue for writes; the next clone re-creates green', async () => {
    const aborted = await _abort(rig.deps);
    expect(aborted.ok).toBe(true);
    await sql(rig.sandbox.appUrl, `INSERT INTO users (email, name) VALUES ('after-abort@example.com', 'z')`);
    const again = await _clone(rig.deps);
    expect(again.steps.find((s) => s.name === 'create-green-database')?.detail).toMatch(/re-created/);
    expect(await count(rig.sandbox.greenUrl, `users WHERE email = 'after-abort@example.com'`)).toBe(1);
  });
});
