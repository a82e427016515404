/**
 * Large objects in replicate mode (issue 21): the streaming clone copied none, compare said "same",
 * the switchover went through and green's rows pointed at large objects that did not exist. Now the
 * clone copies them, every flip carries what changed (before the pause, and inside it what changed
 * after that), and compare names each one that differs.
 * Durable clusters (fsync, synchronous_commit, full_page_writes on) wherever a writer's acknowledgements are checked.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _compare } from '../../src/commands/compare.js';
import { LARGE_OBJECTS_ENTRY } from '../../src/commands/compare-large-objects.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { largeObjectsChangedSince, rememberLargeObjects } from '../../src/adapters/large-objects.js';
import { silentProgress } from '../../src/adapters/progress.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { missingOrders, type Rig, sql, startRig } from './helpers.js';

/** Each large object as both sides must agree on it: bytes, owner, ACL, comment. */
const LARGE_OBJECTS = `SELECT m.oid::text AS oid, pg_get_userbyid(m.lomowner)::text AS owner, m.lomacl::text AS acl,
  obj_description(m.oid, 'pg_largeobject') AS comment, md5(lo_get(m.oid)) AS md5, length(lo_get(m.oid)) AS bytes
  FROM pg_largeobject_metadata m ORDER BY m.oid`;

const bodyOf = async (url: string, id: number) => (await sql<{ body: string }>(url, 'SELECT body::text AS body FROM documents WHERE id = $1', [id]))[0].body;

describe('large objects in replicate mode: cloned, carried at every flip, compared', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false, scale: 0.02, config: { mode: 'replicate' } });
    const blue = rig.sandbox.blueUrl;
    await sql(blue, `CREATE TABLE documents (id int PRIMARY KEY, body oid)`);
    await sql(blue, `GRANT ALL ON documents TO ${rig.sandbox.appUser}`);
    // Sizes from empty to many pages (2 kB each), one owned by the application, one granted to it, one commented.
    await sql(blue, `INSERT INTO documents SELECT i, lo_from_bytea(0, convert_to(repeat(md5(i::text), i * 150), 'UTF8')) FROM generate_series(1, 5) i`);
    await sql(blue, `INSERT INTO documents VALUES (6, lo_create(0))`);
    await sql(blue, `DO $$ BEGIN
      EXECUTE format('ALTER LARGE OBJECT %s OWNER TO %I', (SELECT body FROM documents WHERE id = 1), $1);
      EXECUTE format('GRANT SELECT ON LARGE OBJECT %s TO %I', (SELECT body FROM documents WHERE id = 2), $1);
      EXECUTE format('COMMENT ON LARGE OBJECT %s IS %L', (SELECT body FROM documents WHERE id = 3), 'the signed copy');
    END $$`.replaceAll('$1', `'${rig.sandbox.appUser}'`));
  });
  afterAll(() => rig?.stop());

  it('the streaming clone copies every large object with its bytes, owner, ACL and comment; compare agrees', async () => {
    const cloned = await _clone(rig.deps);
    expect(cloned.error).toBeUndefined();
    expect(cloned.steps.find((s) => s.name === 'copy-large-objects')?.detail).toMatch(/^6 large objects, [\d.]+ MB, with owner, ACL and comment$/);
    const [blue, green] = await Promise.all([sql(rig.sandbox.blueUrl, LARGE_OBJECTS), sql(rig.sandbox.greenUrl, LARGE_OBJECTS)]);
    expect(blue).toHaveLength(6);
    expect(green).toEqual(blue);
    expect(blue.some((lo) => lo.comment === 'the signed copy' && (lo.bytes as number) === 3 * 150 * 32)).toBe(true);
    const compared = await _compare(rig.deps);
    expect(compared.tables.find((t) => t.table === LARGE_OBJECTS_ENTRY)).toMatchObject({ status: 'ok', blueRows: 6, greenRows: 6 });
    expect(compared.ok).toBe(true);
  });

  it('finds exactly what changed since a remembered state, deletes of pages and comments included', async () => {
    const client = new pg.Client({ connectionString: rig.sandbox.blueUrl });
    await client.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      const horizon = await rememberLargeObjects(client);
      await client.query('COMMIT');
      expect(await largeObjectsChangedSince(client, horizon)).toEqual({ changed: [], gone: [] });
      const [four, five, three] = [await bodyOf(rig.sandbox.blueUrl, 4), await bodyOf(rig.sandbox.blueUrl, 5), await bodyOf(rig.sandbox.blueUrl, 3)];
      // A truncate on a page boundary deletes pages and writes none; removing a comment deletes a row.
      await sql(rig.sandbox.blueUrl, `SELECT lo_truncate(lo_open($1::oid, 131072), 2048)`, [four]);
      await sql(rig.sandbox.blueUrl, `DO $$ BEGIN EXECUTE format('COMMENT ON LARGE OBJECT %s IS NULL', ${Number(three)}); END $$`);
      await sql(rig.sandbox.blueUrl, `SELECT lo_put($1::oid, 10, 'x')`, [five]);
      const changed = await largeObjectsChangedSince(client, horizon);
      expect(changed).toEqual({ changed: [three, four, five].sort(), gone: [] });
      // Compare names each one that differs, and why.
      const compared = await _compare(rig.deps);
      const entry = compared.tables.find((t) => t.table === LARGE_OBJECTS_ENTRY);
      expect(entry?.status).toBe('differs');
      expect(entry?.differences).toEqual([
        { key: { oid: three }, kind: 'differs', columns: ['comment'] },
        { key: { oid: four }, kind: 'differs', columns: ['content'] },
        { key: { oid: five }, kind: 'differs', columns: ['content'] },
      ].sort((a, b) => Number(a.key.oid) - Number(b.key.oid)));
      expect(compared.ok).toBe(false);
    } finally {
      await client.end();
    }
  });

  it('the switchover carries what changed on blue before the pause and what changed after that inside it, under a writer', async () => {
    const blue = rig.sandbox.blueUrl;
    const two = await bodyOf(blue, 2);
    await sql(blue, `SELECT lo_unlink(body) FROM documents WHERE id = 2`);
    await sql(blue, `UPDATE documents SET body = NULL WHERE id = 2`);
    await sql(blue, `INSERT INTO documents VALUES (7, lo_from_bytea(0, 'made after the clone'))`);
    // Written while the guardrails run: after the copy before the pause, before the freeze.
    const late = new pg.Client({ connectionString: blue });
    await late.connect();
    let lateWrite: Promise<unknown> | undefined;
    const progress = { ...silentProgress, start: (text: string) => void (text === 'Checking guardrails' && (lateWrite = late.query(`INSERT INTO documents VALUES (8, lo_from_bytea(0, 'made just before the pause'))`))) };
    const load = startWriteLoad(rig.sandbox.appUrl, 60);
    try {
      await new Promise((r) => setTimeout(r, 200));
      const result = await _switchover({ ...rig.deps, progress });
      await lateWrite;
      const stats = await load.stop();
      expect(result.error).toBeUndefined();
      expect(result.steps.find((s) => s.name === 'carry-large-objects')?.detail).toMatch(/^4 copied \([\d.]+ MB\), 1 unlinked, of 6$/);
      expect(result.steps.find((s) => s.name === 'carry-large-objects-changed')?.detail).toMatch(/^1 copied \([\d.]+ MB\), 0 unlinked: \d+$/);
      expect(await missingOrders(rig.sandbox.greenUrl, stats.acknowledged)).toEqual([]);
    } finally {
      await late.end();
    }
    const [onBlue, onGreen] = await Promise.all([sql(blue, LARGE_OBJECTS), sql(rig.sandbox.greenUrl, LARGE_OBJECTS)]);
    expect(onGreen).toEqual(onBlue);
    expect(onGreen.map((lo) => lo.oid)).not.toContain(two);
    // Every row's large object exists where traffic now goes.
    expect(await sql(rig.sandbox.appUrl, `SELECT id FROM documents WHERE body IS NOT NULL AND body NOT IN (SELECT oid FROM pg_largeobject_metadata)`)).toEqual([]);
    const after = await _compare(rig.deps);
    expect(after.ok).toBe(true);
  });

  it('the rollback carries what green wrote in the window; a difference planted on blue is reported, then repaired', async () => {
    const app = rig.sandbox.appUrl; // now green
    await sql(app, `INSERT INTO documents VALUES (9, lo_from_bytea(0, 'written on green'))`);
    const one = await bodyOf(app, 1);
    await sql(app, `SELECT lo_put($1::oid, 0, 'GREEN')`, [one]);
    const planted = await bodyOf(rig.sandbox.blueUrl, 3);
    await sql(rig.sandbox.blueUrl, `SELECT lo_put($1::oid, 0, 'planted')`, [planted]);
    const compared = await _compare(rig.deps);
    const entry = compared.tables.find((t) => t.table === LARGE_OBJECTS_ENTRY);
    expect(entry?.differences?.map((d) => d.key.oid).sort()).toEqual([one, planted, await bodyOf(app, 9)].sort());
    expect(compared.ok).toBe(false);
    const result = await _rollback(rig.deps);
    expect(result.error).toBeUndefined();
    expect(result.steps.find((s) => s.name === 'carry-large-objects')?.detail).toMatch(/^3 copied/);
    const [onBlue, onGreen] = await Promise.all([sql(rig.sandbox.blueUrl, LARGE_OBJECTS), sql(rig.sandbox.greenUrl, LARGE_OBJECTS)]);
    expect(onBlue).toEqual(onGreen);
    expect((await sql<{ s: string }>(rig.sandbox.appUrl, `SELECT convert_from(lo_get(body, 0, 5), 'UTF8') AS s FROM documents WHERE id = 1`))[0].s).toBe('GREEN');
    expect((await _compare(rig.deps)).ok).toBe(true);
  });
});
