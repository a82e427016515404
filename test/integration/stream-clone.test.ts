/**
 * clone.backup "none": the rows stream from blue's exported snapshot straight into green, several at
 * once, a large table split into block ranges; nothing but the schema on the controller's disk. Compare
 * (typed row hashes) proves every row and value arrived, under a writer.
 * Fast clusters: no durability asserted.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _compare } from '../../src/commands/compare.js';
import { stopCluster, startStoppedCluster } from '../../src/sandbox/cluster.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { type Rig, sql, startRig } from './helpers.js';

const dirBytes = (dir: string): number => readdirSync(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);

describe('a streaming clone (clone.backup "none")', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ config: { mode: 'replicate', clone: { backup: 'none' } } });
    await sql(rig.sandbox.blueUrl, `
      CREATE TYPE mood AS ENUM ('calm', 'busy');
      -- Values PostgreSQL hashes by an OID (an enum label's, a relation's) nested in other types, and
      -- reg* values, whose binary form is the OID itself: the same value has another OID on green.
      CREATE TYPE pair AS (a int, m mood); CREATE DOMAIN calm_mood AS mood; CREATE TYPE mood_range AS RANGE (subtype = mood);
      CREATE SCHEMA "Ünïcode ""Schema"". x";
      CREATE TABLE "Ünïcode ""Schema"". x"."we""ird; table" (id bigserial PRIMARY KEY, "a b" text);
      INSERT INTO "Ünïcode ""Schema"". x"."we""ird; table" ("a b") SELECT 'row ' || g FROM generate_series(1, 100) g;
      CREATE TABLE big (id bigint PRIMARY KEY, note text NOT NULL);
      INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 1000000) g;
      CREATE INDEX "odd idx; ""name""" ON big (note);
      -- A foreign key to a table whose key is built early, while the rest still streams: it must come after.
      CREATE TABLE refs (id int PRIMARY KEY, big_id bigint NOT NULL REFERENCES big (id));
      INSERT INTO refs SELECT g, g * 7 FROM generate_series(1, 1000) g;
      CREATE TABLE toasty (id int PRIMARY KEY, doc text, blob bytea);
      INSERT INTO toasty SELECT g, repeat(md5(g::text), 20000), decode(repeat(md5(g::text), 5000), 'hex') FROM generate_series(1, 20) g;
      CREATE TABLE kinds (id serial PRIMARY KEY, n numeric(20,6), f float8, r real, ts timestamptz, d date, iv interval, j jsonb, js json, arr int[],
                          t text, b bytea, u uuid, ip inet, p point, m mood, flag boolean, ms mood[], pr pair, prs pair[],
                          dm calm_mood, mr mood_range, mmr mood_multirange, rc regclass, rcs regclass[]);
      INSERT INTO kinds (n, f, r, ts, d, iv, j, js, arr, t, b, u, ip, p, m, flag, ms, pr, prs, dm, mr, mmr, rc, rcs) VALUES
        (123.450000, 'NaN', '-0', '2026-11-22 10:00:00+02', '2026-01-01', '1 day 2 hours', '{"b":1,"a":[1,2]}', '{"x": 1}', '{1,NULL,3}', '', '\\x00ff', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '10.0.0.1/24', '(1.5,2)', 'busy', true, '{calm,busy}', '(1,calm)', ARRAY['(2,busy)'::pair],
         'calm', '[calm,busy]', '{[calm,busy]}', 'big', ARRAY['big'::regclass, 'refs'::regclass]),
        (NULL, 1e300, 3.25, NULL, NULL, NULL, NULL, NULL, '{}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
      SELECT setval('kinds_id_seq', 500);
      -- Foreign keys as blue has them: one never validated (a row breaks it), a deferrable one with a
      -- hostile name between tables with spaces, two keys checked against the same table, and one on a
      -- partitioned table (made by pg_restore: PostgreSQL cannot add it NOT VALID).
      CREATE TABLE loose (id int PRIMARY KEY, big_id bigint);
      INSERT INTO loose VALUES (1, 5), (2, -1);
      ALTER TABLE loose ADD CONSTRAINT loose_big_fkey FOREIGN KEY (big_id) REFERENCES big (id) NOT VALID;
      CREATE TABLE "order lines" (id int PRIMARY KEY, ref_id int NOT NULL, big_id bigint NOT NULL REFERENCES big (id) ON DELETE CASCADE);
      ALTER TABLE "order lines" ADD CONSTRAINT "fk; ""odd"" name" FOREIGN KEY (ref_id) REFERENCES refs (id) DEFERRABLE INITIALLY DEFERRED;
      INSERT INTO "order lines" SELECT g, 1 + g % 1000, 1 + g % 1000000 FROM generate_series(1, 5000) g;
      CREATE TABLE parted (id int PRIMARY KEY, big_id bigint REFERENCES big (id)) PARTITION BY RANGE (id);
      CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (1000);
      INSERT INTO parted SELECT g, g FROM generate_series(1, 999) g;
      -- Inheritance: a whole table is copied with COPY table TO, which must not take its children's rows.
      CREATE TABLE animal (id int PRIMARY KEY, name text);
      CREATE TABLE dog (PRIMARY KEY (id)) INHERITS (animal);
      INSERT INTO animal VALUES (1, 'cat');
      INSERT INTO dog VALUES (2, 'rex'), (3, 'fido');`);
  });
  afterAll(() => rig?.stop());

  it('streams every row and value, splits the large table, keeps only the schema on disk, and compares clean under a writer', async () => {
    const load = startWriteLoad(rig.sandbox.appUrl, 100, 2);
    try {
      const clone = await _clone(rig.deps);
      expect(clone.error).toBeUndefined();
      const stream = clone.steps.find((s) => s.name === 'stream-data');
      expect(stream?.status).toBe('ok');
      const parts = Number(/, (\d+) parts\)/.exec(stream!.detail!)![1]);
      expect(parts).toBeGreaterThan(12); // the big table in several block ranges, beside the others
      // Binary between equal majors, except kinds: its regclass values' binary form is blue's OID.
      expect(stream!.detail).toMatch(/binary; in text: public\.kinds \(/);
      expect(await sql(rig.sandbox.greenUrl, `SELECT rc::text AS rc, rcs::text AS rcs FROM kinds WHERE id = 1`)).toEqual([{ rc: 'big', rcs: '{big,refs}' }]);
      // big (65 MB) had its key and index built as soon as its rows were in; the small tables wait for the end.
      const post = clone.steps.find((s) => s.name === 'restore-indexes');
      expect(post!.detail).toMatch(/those of 1 large table built as their rows landed/);
      // The keys between plain tables added by us (the demo schema's 5; refs, loose and the two of "order lines"), all but loose's checked.
      expect(post!.detail).toMatch(/; 9 foreign keys added, 8 checked beside the other work/);
      expect(clone.steps.map((s) => s.name)).toEqual(expect.arrayContaining(['dump-schema', 'restore-schema', 'stream-data', 'restore-indexes']));
      expect(clone.steps.map((s) => s.name)).not.toContain('dump');
      // The controller's disk holds the schema only.
      expect(dirBytes(clone.dump!.path)).toBeLessThan(200 * 1024);
      expect(await sql(rig.sandbox.greenUrl, `SELECT count(*)::int AS n, sum(id)::text AS s FROM big`)).toEqual([{ n: 1000000, s: '500000500000' }]);
      expect(await sql(rig.sandbox.greenUrl, `SELECT last_value::int AS v FROM kinds_id_seq`)).toEqual([{ v: 500 }]);
      expect(await sql(rig.sandbox.greenUrl, `SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'big'`)).toEqual([{ n: 2 }]);
      expect(await sql(rig.sandbox.greenUrl, `SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'refs'::regclass AND contype = 'f' AND convalidated`)).toEqual([{ n: 1 }]);
      expect(await sql(rig.sandbox.greenUrl, `SELECT (SELECT count(*) FROM ONLY animal)::int AS parent, (SELECT count(*) FROM animal)::int AS whole, (SELECT count(*) FROM dog)::int AS dogs`)).toEqual([{ parent: 1, whole: 3, dogs: 2 }]);
      // Every foreign key as on blue: definition, validated or not, deferrable or not.
      const keys = `SELECT conrelid::regclass::text AS t, conname AS name, pg_get_constraintdef(oid) AS def, convalidated AS valid, condeferred AS deferred
                      FROM pg_constraint WHERE contype = 'f' ORDER BY 1, 2`;
      const blueKeys = await sql(rig.sandbox.blueUrl, keys);
      expect(blueKeys.map((k) => k.name)).toEqual(expect.arrayContaining(['loose_big_fkey', 'fk; "odd" name', 'order lines_big_id_fkey', 'parted_big_id_fkey']));
      expect(await sql(rig.sandbox.greenUrl, keys)).toEqual(blueKeys);
      expect(await sql(rig.sandbox.greenUrl, `SELECT convalidated AS v FROM pg_constraint WHERE conname = 'loose_big_fkey'`)).toEqual([{ v: false }]);
      await new Promise((r) => setTimeout(r, 500));
      const compare = await _compare(rig.deps);
      expect(compare.tables.filter((t) => t.status === 'differs' || t.status === 'missing-on-green')).toEqual([]);
      expect(compare.schema.unexpected).toEqual([]);
      expect(compare.tables.find((t) => t.table === 'public.toasty')?.status).toBe('ok');
      expect(compare.tables.find((t) => t.table === 'public.kinds')?.status).toBe('ok');
      console.log(`streaming clone: ${stream!.detail}`);
      // Whole tables were loaded frozen (COPY FREEZE): every page all-visible and all-frozen already; the
      // split table's parts (loaded side by side, so not frozen) wait for vacuum as before.
      // Green is guarded until the switchover: this test's own DDL says it is ours.
      await sql(rig.sandbox.greenUrl, 'SET bluegreen.allow_writes = on; CREATE EXTENSION pg_visibility');
      try {
        const frozen = (table: string) => sql<{ pages: number; frozen: number }>(rig.sandbox.greenUrl, `SELECT (pg_relation_size('${table}') / 8192)::int AS pages, all_frozen::int AS frozen FROM pg_visibility_map_summary('${table}')`);
        for (const table of ['kinds', 'toasty', 'refs']) {
          const [v] = await frozen(table);
          expect(v.pages).toBeGreaterThan(0);
          expect(v.frozen).toBe(v.pages);
        }
        expect((await frozen('big'))[0].frozen).toBe(0);
        // Values hashed as text because their hash is an OID (an enum inside a composite here) still
        // show a real difference.
        await sql(rig.sandbox.greenUrl, `SET bluegreen.allow_writes = on; UPDATE kinds SET pr = '(1,busy)' WHERE id = 1`);
        const changed = await _compare(rig.deps);
        expect(changed.tables.find((t) => t.table === 'public.kinds')?.differences).toEqual([{ kind: 'differs', key: { id: '1' }, columns: ['pr'] }]);
        await sql(rig.sandbox.greenUrl, `SET bluegreen.allow_writes = on; UPDATE kinds SET pr = '(1,calm)' WHERE id = 1`);
      } finally {
        await sql(rig.sandbox.greenUrl, 'SET bluegreen.allow_writes = on; DROP EXTENSION pg_visibility');
      }
    } finally {
      const stats = await load.stop();
      expect(stats.refused).toBe(0);
    }
  });

  it('a failure midway (green stops during the stream) leaves blue with no slot and no publication', async () => {
    const { _abort } = await import('../../src/commands/abort.js');
    if ((await rig.deps.store.load())?.phase === 'ready') expect((await _abort(rig.deps)).error).toBeUndefined();
    const running = _clone(rig.deps);
    // Stop green once rows are arriving.
    for (let i = 0; i < 200; i++) {
      const n = await sql<{ n: number }>(rig.sandbox.greenUrl, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'bluegreen clone (stream)'`).then((r) => r[0].n, () => 0);
      if (n > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await stopCluster(rig.sandbox.green, rig.sandbox.user);
    const result = await running;
    await startStoppedCluster(rig.sandbox.green, rig.sandbox.user);
    expect(result.ok).toBe(false);
    expect(result.error?.message).toMatch(/^clone failed at (stream-data|restore-indexes|restore-schema)/);
    // Blue keeps nothing that would retain WAL (green, being down, may keep its half-made subscription: the next clone re-creates it).
    expect(await sql(rig.sandbox.blueUrl, `SELECT count(*)::int AS n FROM pg_replication_slots`)).toEqual([{ n: 0 }]);
    expect(await sql(rig.sandbox.blueUrl, `SELECT count(*)::int AS n FROM pg_publication`)).toEqual([{ n: 0 }]);
  });
});
