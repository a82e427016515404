/**
 * The managed profile (blue 15 → green 17, an admin without SUPERUSER) after the clone: a deploy on
 * blue adds a column, and sync-schema carries it and its values to green without
 * session_replication_role (refused to the role), or refuses, naming the trigger that would fire;
 * the switchover then keeps every acknowledged write. Role passwords set on green never appear in a
 * statement the server logs (log_statement = all on green).
 * A lossless rollback under this profile needs blue on 16+ (pg_create_subscription), which Debian 12's
 * pg_dump 15 cannot clone: not run here.
 * Durable clusters (fsync, synchronous_commit, full_page_writes on): a writer's acknowledgements are checked.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { createDeps, type Deps } from '../../src/commands/context.js';
import { _status } from '../../src/commands/status.js';
import { _switchover } from '../../src/commands/switchover.js';
import { _syncSchema } from '../../src/commands/sync-schema.js';
import { silentProgress } from '../../src/adapters/progress.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { missingOrders, type Rig, sql, startRig } from './helpers.js';

describe('managed profile: sync-schema and role passwords without a superuser', () => {
  let rig: Rig;
  let deps: Deps;
  const greenLog = () => readFileSync(path.join(path.dirname(rig.sandbox.green.dataDir), 'postgres.log'), 'utf8');
  const greenAsApp = () => `postgres://app:${encodeURIComponent(rig.sandbox.appPassword)}@127.0.0.1:${rig.sandbox.green.port}/app`;
  const greenPostgres = () => rig.sandbox.greenUrl.replace(/\/app(\?|$)/, '/postgres$1');
  beforeAll(async () => {
    rig = await startRig({ blueMajor: 15, greenMajor: 17, managed: true, fast: false, config: { mode: 'replicate' } });
    process.env.BG_TEST_ROLE_PASSWORD_app = rig.sandbox.appPassword;
    deps = createDeps({ ...rig.config, roles: { passwordsEnv: 'BG_TEST_ROLE_PASSWORD_' } }, silentProgress);
    // As a service whose operator logs every statement: what the tool sends must hold no password.
    await sql(greenPostgres(), `ALTER SYSTEM SET log_statement = 'all'`);
    await sql(greenPostgres(), `SELECT pg_reload_conf()`);
  });
  afterAll(async () => {
    delete process.env.BG_TEST_ROLE_PASSWORD_app;
    await rig?.stop();
  });

  it('a column added on blue reaches green with its values without session_replication_role; the switchover keeps every acknowledged write', async () => {
    const load = startWriteLoad(rig.sandbox.appUrl, 100, 2);
    const admin = rig.sandbox.managedAdmin!;
    try {
      expect((await _clone(deps)).error).toBeUndefined();
      // The operator's password reached green as a SCRAM verifier: the role logs in with SCRAM (trust nowhere), the log never saw it.
      expect(await sql(greenAsApp(), 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
      const [stored] = await sql<{ rolpassword: string }>(rig.sandbox.greenUrl, `SELECT rolpassword FROM pg_authid WHERE rolname = 'app'`);
      expect(stored.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
      expect(greenLog()).toMatch(/ALTER ROLE "?app"? PASSWORD 'SCRAM-SHA-256\$4096:/);
      expect(greenLog()).not.toContain(rig.sandbox.appPassword);

      // A deploy on blue, as the tables' owner (the application role only writes).
      await sql(admin.blueUrl, `ALTER TABLE users ADD COLUMN nickname text`);
      await sql(admin.blueUrl, `UPDATE users SET nickname = 'nick-' || id WHERE id <= 20`);
      // A trigger of green's own on the table would fire for the copy (no replica mode): refused, named.
      await sql(rig.sandbox.greenUrl, `CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch()`);
      await expect(_syncSchema(deps)).rejects.toThrow(/session_replication_role is refused to this role, and without it trigger users_touch would act on the copy/);
      await sql(rig.sandbox.greenUrl, `DROP TRIGGER users_touch ON users; DROP FUNCTION touch()`);
      const sync = await _syncSchema(deps);
      expect(sync.error).toBeUndefined();
      await sql(admin.blueUrl, `UPDATE users SET nickname = 'late' WHERE id = 21`);

      const flip = await _switchover(deps, { acceptDataLoss: true });
      expect(flip.error).toBeUndefined();
      expect((await _status(deps)).serving).toBe('green');
    } finally {
      await load.stop();
    }
    const acknowledged = load.acknowledged();
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(await missingOrders(rig.sandbox.greenUrl, acknowledged)).toEqual([]);
    const nicknames = await sql<{ id: number; nickname: string }>(rig.sandbox.greenUrl, `SELECT id::int, nickname FROM users WHERE nickname IS NOT NULL ORDER BY id`);
    expect(nicknames).toEqual([...Array.from({ length: 20 }, (_, i) => ({ id: i + 1, nickname: `nick-${i + 1}` })), { id: 21, nickname: 'late' }]);
  });
});
