/**
 * The rollback window keeps every write whatever the application does in it. A writer through
 * PgBouncer records every acknowledged order throughout; DDL is made the way a deploy makes it, as
 * the application's role on the serving side; each flip must either carry it (additive) or refuse
 * before anything is paused (destructive), and `status` must say which at any moment.
 * Durable clusters (fsync, synchronous_commit, full_page_writes on) wherever a writer's acknowledgements are checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _compare } from '../../src/commands/compare.js';
import { _migrate } from '../../src/commands/migrate.js';
import { _status } from '../../src/commands/status.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { _syncSchema } from '../../src/commands/sync-schema.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { missingOrders, type Rig, sql, startRig } from './helpers.js';

const asApp = (rig: Rig, side: 'blue' | 'green') =>
  `postgres://${rig.sandbox.appUser}:${encodeURIComponent(rig.sandbox.appPassword)}@127.0.0.1:${rig.sandbox[side].port}/${rig.sandbox.database}`;

describe('the rollback window: DDL on the serving side is carried, or the flip refuses', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate' } });
    // A materialized view over orders, with a unique index (refreshed concurrently), made before the clone.
    await sql(rig.sandbox.blueUrl, `CREATE MATERIALIZED VIEW order_totals AS SELECT account_id, count(*) AS n FROM orders GROUP BY account_id;
      CREATE UNIQUE INDEX ON order_totals (account_id); ALTER MATERIALIZED VIEW order_totals OWNER TO ${rig.sandbox.appUser}`);
  });
  afterAll(() => rig?.stop());

  it('additive DDL on green (column, table, enum value) reaches blue with its data; a destructive one is refused before the pause', async () => {
    const load = startWriteLoad(rig.sandbox.appUrl, 100, 2);
    try {
      expect((await _clone(rig.deps)).ok).toBe(true);
      await _migrate(rig.deps);
      await new Promise((r) => setTimeout(r, 300));
      const viewTotal = async (side: 'blue' | 'green') => (await sql<{ n: number }>(rig.sandbox[`${side}Url`], `SELECT sum(n)::int AS n FROM order_totals`))[0].n;
      const orders = async (side: 'blue' | 'green') => (await sql<{ n: number }>(rig.sandbox[`${side}Url`], `SELECT count(*)::int AS n FROM orders`))[0].n;
      const asOfClone = await viewTotal('green');
      // The application refreshes its view on blue: green's copy is now stale, and compare says since when.
      await sql(rig.sandbox.blueUrl, `REFRESH MATERIALIZED VIEW order_totals`);
      const stale = (await _compare(rig.deps)).tables.find((t) => t.table === 'public.order_totals');
      expect(stale).toMatchObject({ status: 'stale', materializedView: true, staleSince: expect.stringMatching(/^\d{4}-/) });
      const beforeSwitchover = await orders('green');
      expect(beforeSwitchover).toBeGreaterThan(asOfClone);
      const switchover = await _switchover(rig.deps);
      expect(switchover.error).toBeUndefined();
      // (7) green's materialized view is fresh at the switchover, not as of the clone.
      expect(switchover.steps.find((s) => s.name === 'refresh-materialized-views')?.detail).toMatch(/order_totals \d+ ms \(concurrently\)/);
      expect(await viewTotal('green')).toBeGreaterThanOrEqual(beforeSwitchover);

      // A deploy during the window, as the application's role on green.
      const green = asApp(rig, 'green');
      await sql(green, `ALTER TABLE users ADD COLUMN nickname text`);
      await sql(green, `UPDATE users SET nickname = 'nick-' || id WHERE id <= 20`);
      await sql(green, `CREATE TABLE notes (id bigserial PRIMARY KEY, user_id bigint NOT NULL, body text NOT NULL)`);
      await sql(green, `INSERT INTO notes (user_id, body) SELECT id, 'note ' || id FROM users WHERE id <= 30`);
      await sql(green, `CREATE TYPE mood AS ENUM ('calm', 'busy'); ALTER TABLE notes ADD COLUMN mood mood`);
      await sql(green, `ALTER TYPE mood ADD VALUE 'frantic'`);
      await sql(green, `UPDATE notes SET mood = 'frantic' WHERE id <= 5`);

      const status = await _status(rig.deps);
      expect(status.window).toMatchObject({ next: 'rollback', verdict: 'lossless' });
      expect(status.window!.pending.join('\n')).toMatch(/add column public\.users\.nickname/);
      expect(status.window!.pending.join('\n')).toMatch(/create table public\.notes/);
      const greenDdl = status.ddl.find((d) => d.side === 'green')!.entries.map((e) => `${e.command} ${e.object}`);
      expect(greenDdl).toEqual(expect.arrayContaining(['ALTER TABLE public.users', 'CREATE TABLE public.notes', 'ALTER TYPE public.mood']));

      // Written after sync-schema ran on demand, the rows must still reach blue (replication now covers them).
      const sync = await _syncSchema(rig.deps);
      expect(sync.error).toBeUndefined();
      await sql(green, `UPDATE users SET nickname = 'late' WHERE id = 21; INSERT INTO notes (user_id, body, mood) VALUES (1, 'after sync', 'busy')`);
      await new Promise((r) => setTimeout(r, 300));

      const beforeRollback = await orders('blue');
      const rollback = await _rollback(rig.deps);
      expect(rollback.error).toBeUndefined();
      expect(rollback.steps.find((s) => s.name === 'sync-schema')?.detail).toMatch(/lossless/);
      // (1) (2) (3): every value green had is on blue.
      expect(await sql(rig.sandbox.blueUrl, `SELECT id::int, nickname FROM users WHERE nickname IS NOT NULL ORDER BY id`)).toEqual(
        await sql(rig.sandbox.greenUrl, `SELECT id::int, nickname FROM users WHERE nickname IS NOT NULL ORDER BY id`),
      );
      expect((await sql(rig.sandbox.blueUrl, `SELECT count(*)::int AS n FROM users WHERE nickname IS NOT NULL`))[0]).toEqual({ n: 21 });
      const notes = `SELECT id::int, user_id::int, body, mood::text FROM notes ORDER BY id`;
      expect(await sql(rig.sandbox.blueUrl, notes)).toEqual(await sql(rig.sandbox.greenUrl, notes));
      expect((await sql(rig.sandbox.blueUrl, `SELECT count(*)::int AS n FROM notes WHERE mood = 'frantic'`))[0]).toEqual({ n: 5 });
      // (7) blue's view is fresh after the rollback too: it counts orders written on green during the window.
      expect(await viewTotal('blue')).toBeGreaterThanOrEqual(beforeRollback);
      // And the app keeps writing the new column on blue now.
      await sql(asApp(rig, 'blue'), `UPDATE users SET nickname = 'back on blue' WHERE id = 22`);

      // (4) back on green, a destructive change: drop a column with CASCADE (it takes the table out of the publication).
      expect((await _switchover(rig.deps)).error).toBeUndefined();
      await sql(green, `ALTER TABLE users DROP COLUMN nickname CASCADE`);
      await sql(green, `UPDATE users SET name = 'after drop' WHERE id = 3`);
      const lossy = await _status(rig.deps);
      expect(lossy.window?.verdict).toBe('lossy');
      expect(lossy.window!.losses.map((l) => l.object)).toContain('column public.users.nickname');
      const refused = await _rollback(rig.deps);
      expect(refused.ok).toBe(false);
      expect(refused.error?.exitCode).toBe(3);
      expect(refused.error?.message).toMatch(/column public\.users\.nickname: dropped on green/);
      expect(refused.steps.find((s) => s.name === 'pause')?.status).toBe('skipped');
      expect(refused.serving).toBe('green');
      await sql(rig.sandbox.appUrl, `INSERT INTO users (email, name) VALUES ('still-green@example.com', 'g')`);

      const accepted = await _rollback(rig.deps, { acceptDataLoss: true });
      expect(accepted.error).toBeUndefined();
      expect(accepted.steps.find((s) => s.name === 'sync-schema')?.detail).toMatch(/ACCEPTED LOSS of column public\.users\.nickname/);
      // Rows written on green after the drop reached blue: the table was published again and copied.
      expect(await sql(rig.sandbox.blueUrl, `SELECT name FROM users WHERE id = 3 OR email = 'still-green@example.com' ORDER BY id`)).toEqual([{ name: 'after drop' }, { name: 'g' }]);
      const record = JSON.parse((await import('node:fs')).readFileSync(`${rig.config.stateDir}/state.json`, 'utf8'));
      expect(record.flips.at(-1).acceptedLosses[0].object).toBe('column public.users.nickname');
      const audit = (await import('node:fs')).readFileSync(`${rig.config.stateDir}/audit.log`, 'utf8');
      expect(audit).toMatch(/"outcome":"data-loss-accepted".*nickname/);

      const stats = await load.stop();
      expect(stats.refused).toBe(0);
      expect(await missingOrders(rig.sandbox.blueUrl, stats.acknowledged)).toEqual([]);
      console.log(`window test: ${stats.acknowledged.length} writes acknowledged, 0 refused, 0 missing`);
    } finally {
      await load.stop();
    }
  });
});

describe('the rollback window: DDL on blue after the clone, replication health, database settings', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate' } });
    const db = rig.sandbox.database;
    await sql(rig.sandbox.blueUrl, `CREATE SCHEMA app; CREATE ROLE reporting LOGIN PASSWORD 'r3port'; CREATE ROLE locked_out LOGIN PASSWORD 'l0cked';
      ALTER DATABASE ${db} SET search_path = app, public; ALTER DATABASE ${db} SET work_mem = '8MB';
      ALTER ROLE reporting IN DATABASE ${db} SET statement_timeout = '5s';
      REVOKE CONNECT ON DATABASE ${db} FROM PUBLIC; GRANT CONNECT ON DATABASE ${db} TO ${rig.sandbox.appUser}, reporting; GRANT TEMP ON DATABASE ${db} TO reporting;
      COMMENT ON DATABASE ${db} IS 'trading, production'`);
  });
  afterAll(() => rig?.stop());

  it('(8) clone carries database settings, grants and comment; compare sees no drift from a database search_path', async () => {
    expect((await _clone(rig.deps)).ok).toBe(true);
    const settings = `SELECT coalesce(r.rolname, '-') AS role, s.setconfig::text AS c FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole
      WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1`;
    expect(await sql(rig.sandbox.greenUrl, settings)).toEqual(await sql(rig.sandbox.blueUrl, settings));
    const db = `SELECT (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(datacl) a) AS acl, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = current_database()`;
    expect(await sql(rig.sandbox.greenUrl, db)).toEqual(await sql(rig.sandbox.blueUrl, db));
    const lockedOut = (side: 'blue' | 'green') => sql(`postgres://locked_out:l0cked@127.0.0.1:${rig.sandbox[side].port}/${rig.sandbox.database}`, 'SELECT 1');
    await expect(lockedOut('blue')).rejects.toThrow(/permission denied for database/);
    await expect(lockedOut('green')).rejects.toThrow(/permission denied for database/);
    const compare = await _compare(rig.deps);
    expect(compare.schema.unexpected).toEqual([]);
    expect(compare.ok).toBe(true);
  });

  it('(5) (6) a column added and written on blue stops replication; status says why; sync-schema repairs it; a destructive change refuses the switchover', async () => {
    const load = startWriteLoad(rig.sandbox.appUrl, 100, 2);
    try {
      const blue = asApp(rig, 'blue');
      await sql(blue, `ALTER TABLE public.accounts ADD COLUMN tier text DEFAULT 'basic'`);
      await sql(blue, `UPDATE public.accounts SET tier = 'gold' WHERE id <= 3`);
      // Green lacks the column: the apply worker fails on every retry.
      let status = await _status(rig.deps);
      for (let i = 0; i < 50 && status.replication[0].running; i++) {
        await new Promise((r) => setTimeout(r, 200));
        status = await _status(rig.deps);
      }
      expect(status.replication[0]).toMatchObject({ direction: 'blue → green', running: false });
      expect(status.replication[0].cause).toMatch(/apply worker on green has failed .*add column public\.accounts\.tier/);
      expect(status.window).toMatchObject({ next: 'switchover', verdict: 'lossless' });

      const sync = await _syncSchema(rig.deps);
      expect(sync.error).toBeUndefined();
      expect(sync.carried).toEqual(['add column public.accounts.tier, publish it and copy its values by key']);
      await sql(blue, `UPDATE public.accounts SET tier = 'platinum' WHERE id = 4`);
      status = await _status(rig.deps);
      expect(status.replication[0]).toMatchObject({ running: true });
      const compare = await _compare(rig.deps);
      expect(compare.tables.filter((t) => t.status === 'differs')).toEqual([]);

      // Destructive on blue: the switchover refuses before its pause; blue keeps serving.
      // (A retype is refused by PostgreSQL itself now that the publication lists the column.)
      await expect(sql(blue, `ALTER TABLE public.users ALTER COLUMN name TYPE varchar(300)`)).rejects.toThrow(/used by a publication/);
      await sql(blue, `ALTER TABLE public.users ALTER COLUMN email DROP NOT NULL`);
      const refused = await _switchover(rig.deps);
      expect(refused.error?.exitCode).toBe(3);
      expect(refused.error?.message).toMatch(/column public\.users\.email: NOT NULL dropped on blue but green still enforces it/);
      expect(refused.steps.find((s) => s.name === 'pause')?.status).toBe('skipped');
      expect(refused.serving).toBe('blue');
      const stats = await load.stop();
      expect(stats.refused).toBe(0);
      expect(await missingOrders(rig.sandbox.blueUrl, stats.acknowledged)).toEqual([]);
      expect(await sql(rig.sandbox.greenUrl, `SELECT id::int, tier FROM accounts WHERE tier <> 'basic' ORDER BY id`)).toEqual([
        { id: 1, tier: 'gold' }, { id: 2, tier: 'gold' }, { id: 3, tier: 'gold' }, { id: 4, tier: 'platinum' },
      ]);
      // A sync cut short after the publication covered the column but before its values were copied (as a
      // killed controller leaves it): nothing is left to carry, but the copy is owed and the next run does it.
      await sql(rig.sandbox.greenUrl, `SET bluegreen.allow_writes = on; SET session_replication_role = replica; UPDATE accounts SET tier = NULL WHERE id <= 4`);
      const { writeFileSync } = await import('node:fs');
      writeFileSync(`${rig.config.stateDir}/${(await rig.deps.store.load())!.id}.column-copies-green.json`, JSON.stringify([{ table: 'public.accounts', column: 'tier', setNotNull: false }]));
      const owed = await _syncSchema(rig.deps);
      expect(owed.carried).toEqual(['finished copying by key what a run cut short left: public.accounts.tier']);
      expect(await sql(rig.sandbox.greenUrl, `SELECT id::int, tier FROM accounts WHERE id <= 4 ORDER BY id`)).toEqual([
        { id: 1, tier: 'gold' }, { id: 2, tier: 'gold' }, { id: 3, tier: 'gold' }, { id: 4, tier: 'platinum' },
      ]);
    } finally {
      await load.stop();
    }
  });
});
