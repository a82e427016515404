/**
 * The schema zoo through the flips, on durable clusters (fsync, synchronous_commit and full_page_writes
 * on: every test here asserts that no acknowledged write is lost), with two writers recording every
 * acknowledgement through PgBouncer the whole time:
 * - replicate mode: streaming clone → migrate (an enum value, a table, a nullable column) → compare clean
 *   → switchover → green writes to the zoo (a new partition, the new enum value, the new table and
 *   column, large objects, the unlogged tables) → rollback → switchover → finalize;
 * - freeze mode: dumping clone → switchover → green writes → rollback refused, then accepted.
 * Unlogged tables at the flips: one small (copied inside the pause), one over
 * switchover.unloggedCopyMaxRows (the flip refuses before the pause, or records the loss when accepted).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _compare } from '../../src/commands/compare.js';
import { _finalize } from '../../src/commands/finalize.js';
import { _migrate } from '../../src/commands/migrate.js';
import { _preflight } from '../../src/commands/preflight.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import type { CompareResult } from '../../src/core/compare-model.js';
import { displayName, quoteIdent, quoteQualified } from '../../src/core/quote.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { changeZoo, createZoo, ZOO_SCHEMA, ZOO_UNLOGGED } from '../support/zoo.js';
import { missingEvents, startZooWriter } from '../support/zoo-witness.js';
import { readCarriedTable } from '../support/zoo-kinds.js';
import { missingOrders, type Rig, sql, startRig } from './helpers.js';

const S = quoteIdent(ZOO_SCHEMA);
const q = (name: string) => quoteQualified(ZOO_SCHEMA, name);
/** An unlogged table larger than the rig's switchover.unloggedCopyMaxRows (100). */
const BIG_UNLOGGED = 'big cache ✓';
const MAX_ROWS = 100;

/** The zoo's migrations: expand-only, as replicate mode allows. */
function writeZooMigrations(dir: string, appUser: string): void {
  writeFileSync(path.join(dir, '0101_zoo_mood_frantic.up.sql'), `ALTER TYPE ${S}."Mood" ADD VALUE 'frantic ✓';\n`);
  writeFileSync(path.join(dir, '0102_zoo_tags.up.sql'), `CREATE TABLE ${S}."tags ✓" (id int PRIMARY KEY, label text NOT NULL);\nGRANT ALL ON ${S}."tags ✓" TO ${quoteIdent(appUser)};\n`);
  writeFileSync(path.join(dir, '0103_zoo_customer_nick.up.sql'), `ALTER TABLE ${S}.customers ADD COLUMN "nick ✓" text;\n`);
}

/** What the application does on green after the switchover, through PgBouncer, and what a deploy does there. */
async function writeOnGreen(rig: Rig): Promise<void> {
  // A deploy's DDL on the serving side: a new partition (what pg_partman does every day).
  await sql(rig.sandbox.greenUrl, `CREATE TABLE ${q('events 2033')} PARTITION OF ${q('Events')} FOR VALUES FROM ('2033-01-01') TO ('2034-01-01')`);
  await sql(rig.sandbox.appUrl, `INSERT INTO ${q('Events')} (at, region) SELECT date '2033-02-01' + g, 'eu' FROM generate_series(1, 5) g`);
  await sql(rig.sandbox.appUrl, `INSERT INTO ${q('kinds')} (m, d) VALUES ('frantic ✓', 3)`);
  await sql(rig.sandbox.appUrl, `INSERT INTO ${q('tags ✓')} SELECT g, 'tag ' || g FROM generate_series(1, 7) g`);
  await sql(rig.sandbox.appUrl, `UPDATE ${q('customers')} SET "nick ✓" = 'nick ' || id WHERE id <= 4`);
  // Large objects: one created by the application, one rewritten and one unlinked by their owner (the zoo's superuser).
  await sql(rig.sandbox.appUrl, `INSERT INTO ${q('documents')} VALUES (5, lo_from_bytea(0, convert_to('made on green', 'UTF8')))`);
  await sql(rig.sandbox.greenUrl, `SELECT lo_put(body, 0, convert_to('REWRITTEN', 'UTF8')) FROM ${q('documents')} WHERE id = 1`);
  await sql(rig.sandbox.greenUrl, `SELECT lo_unlink(body) FROM ${q('documents')} WHERE id = 2; DELETE FROM ${q('documents')} WHERE id = 2`);
  await sql(rig.sandbox.appUrl, `UPDATE ${q(ZOO_UNLOGGED.name)} SET v = '{"on": "green"}' WHERE k = 'k 2'`);
  await changeZoo(rig.sandbox.appUrl);
}

function notOk(compare: CompareResult): unknown {
  return {
    tables: compare.tables.filter((t) => !['ok', 'new-on-green', 'stale'].includes(t.status)).map((t) => `${t.table}: ${t.status}`),
    schema: compare.schema.unexpected.map((d) => `${d.kind} ${d.object}: ${d.reason}`),
    integrity: compare.integrity.filter((f) => f.severity !== 'warn').map((f) => `${f.check} ${f.object}: ${f.detail}`),
  };
}

const rowsOf = (url: string, table: string) => sql(url, `SELECT * FROM ${q(table)} ORDER BY 1`);

describe('the schema zoo, replicate mode: clone, migrate, compare, switchover, rollback, switchover, finalize (durable clusters)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate', clone: { backup: 'none' }, switchover: { timeoutMs: 30000, unloggedCopyMaxRows: MAX_ROWS } } });
    await createZoo(rig.sandbox.blueUrl, { appUser: rig.sandbox.appUser });
    await sql(rig.sandbox.blueUrl, `CREATE UNLOGGED TABLE ${q(BIG_UNLOGGED)} (id int PRIMARY KEY, v text); INSERT INTO ${q(BIG_UNLOGGED)} SELECT g, 'v' || g FROM generate_series(1, 150) g;
      GRANT ALL ON ${q(BIG_UNLOGGED)} TO ${quoteIdent(rig.sandbox.appUser)}`);
    writeZooMigrations(rig.migrationsDir, rig.sandbox.appUser);
  });
  afterAll(() => rig?.stop());

  it('goes through every step with nothing acknowledged lost; unlogged tables copied at each flip or refused before the pause', async () => {
    const orders = startWriteLoad(rig.sandbox.appUrl, 40, 1);
    const events = startZooWriter(rig.sandbox.appUrl);
    try {
      const preflight = await _preflight(rig.deps);
      const unlogged = preflight.findings.find((f) => f.check === 'unlogged-tables');
      expect(unlogged?.message).toBe(`unlogged tables: ${displayName(ZOO_SCHEMA, BIG_UNLOGGED)} (150 rows), ${displayName(ZOO_SCHEMA, ZOO_UNLOGGED.name)} (40 rows)`);
      expect(unlogged?.fix).toContain(`At their size now, ${displayName(ZOO_SCHEMA, BIG_UNLOGGED)} is over it: each flip will refuse before the pause`);

      expect((await _clone(rig.deps)).error).toBeUndefined();
      const migrate = await _migrate(rig.deps);
      expect(migrate.error).toBeUndefined();
      expect(migrate.applied).toEqual(expect.arrayContaining(['0101', '0102', '0103']));
      const compare = await _compare(rig.deps);
      expect(notOk(compare)).toEqual({ tables: [], schema: [], integrity: [] });
      expect(compare.ok).toBe(true);

      // Blue's unlogged rows change after the clone: only a flip can carry them.
      await sql(rig.sandbox.appUrl, `UPDATE ${q(ZOO_UNLOGGED.name)} SET v = '{"on": "blue"}' WHERE k = 'k 1'; DELETE FROM ${q(ZOO_UNLOGGED.name)} WHERE k = 'k 3'`);
      const refused = await _switchover(rig.deps);
      expect(refused.error).toMatchObject({ code: 'data_loss_refused', exitCode: 3 });
      expect(refused.error?.message).toContain(`${displayName(ZOO_SCHEMA, BIG_UNLOGGED)}: 150 rows, over switchover.unloggedCopyMaxRows (100)`);
      expect(refused.steps.find((st) => st.name === 'pause')?.status).not.toBe('ok');
      expect(refused.serving).toBe('blue');

      const switched = await _switchover(rig.deps, { acceptDataLoss: true });
      expect(switched.error).toBeUndefined();
      expect(switched.steps.find((st) => st.name === 'copy-unlogged-tables')?.detail).toBe(`39 rows of 1 table: ${displayName(ZOO_SCHEMA, ZOO_UNLOGGED.name)}`);
      expect(await rowsOf(rig.sandbox.greenUrl, ZOO_UNLOGGED.name)).toEqual(await rowsOf(rig.sandbox.blueUrl, ZOO_UNLOGGED.name));
      const state = JSON.parse(readFileSync(`${rig.config.stateDir}/state.json`, 'utf8'));
      expect(state.flips.at(-1).acceptedLosses).toEqual([{ object: `unlogged table ${displayName(ZOO_SCHEMA, BIG_UNLOGGED)}`, what: `blue's 150 rows not copied to green (150 rows, over switchover.unloggedCopyMaxRows (100))` }]);
      expect(readFileSync(`${rig.config.stateDir}/audit.log`, 'utf8')).toMatch(/"outcome":"data-loss-accepted".*unlogged table .*big cache/);

      await writeOnGreen(rig);
      // Green's big unlogged table shrinks under the bound: the rollback copies it without asking.
      await sql(rig.sandbox.appUrl, `DELETE FROM ${q(BIG_UNLOGGED)} WHERE id > 60`);
      await new Promise((r) => setTimeout(r, 300));
      const back = await _rollback(rig.deps);
      expect(back.error).toBeUndefined();
      expect(back.steps.find((st) => st.name === 'copy-unlogged-tables')?.detail).toMatch(/^\d+ rows of 2 tables: /);
      for (const table of [ZOO_UNLOGGED.name, BIG_UNLOGGED]) expect(await rowsOf(rig.sandbox.blueUrl, table)).toEqual(await rowsOf(rig.sandbox.greenUrl, table));
      // What green made and wrote is on blue: the partition, the enum value, the table, the column, the large objects.
      expect(await sql(rig.sandbox.blueUrl, `SELECT count(*)::int AS n FROM ONLY ${q('events 2033')}`)).toEqual([{ n: 5 }]);
      expect(await sql(rig.sandbox.blueUrl, `SELECT count(*)::int AS n FROM ${q('kinds')} WHERE m = 'frantic ✓'`)).toEqual([{ n: 1 }]);
      expect(await rowsOf(rig.sandbox.blueUrl, 'tags ✓')).toHaveLength(7);
      expect(await sql(rig.sandbox.blueUrl, `SELECT count("nick ✓")::int AS n FROM ${q('customers')}`)).toEqual([{ n: 4 }]);
      const afterRollback = await _compare(rig.deps);
      expect(notOk(afterRollback)).toEqual({ tables: [], schema: [], integrity: [] });
      expect(afterRollback.ok).toBe(true);
      const objects = `SELECT d.id, encode(lo_get(d.body), 'escape') AS body FROM ${q('documents')} d ORDER BY 1`;
      expect(await sql(rig.sandbox.blueUrl, objects)).toEqual(await sql(rig.sandbox.greenUrl, objects));

      // What this test saw carried by the flips is what README's "What is carried" says of them.
      const readme = readCarriedTable();
      for (const kind of ['partitions made, attached or detached in the window', 'new tables and new columns', 'enums, domains, composite, range and multirange types', 'large objects', 'unlogged tables', 'sequences']) {
        expect({ kind, flip: readme.get(kind)?.['a flip'] }).toEqual({ kind, flip: expect.stringMatching(/^carried/) });
      }
      expect(readme.get('partitions made, attached or detached in the window')?.["the window's sync-schema"]).toMatch(/^carried/);

      await new Promise((r) => setTimeout(r, 300));
      const again = await _switchover(rig.deps);
      expect(again.error).toBeUndefined();
      expect((await _finalize(rig.deps, { force: true })).error).toBeUndefined();
    } finally {
      const [o, e] = await Promise.all([orders.stop(), events.stop()]);
      expect({ refused: o.refused + e.refused, first: o.firstRefusal ?? e.firstRefusal }).toEqual({ refused: 0, first: undefined });
      expect(o.acknowledged.length).toBeGreaterThan(20);
      expect(await missingOrders(rig.sandbox.greenUrl, o.acknowledged)).toEqual([]);
      expect(await missingEvents(rig.sandbox.greenUrl, e.acknowledged, 0)).toEqual([]);
      console.log(`zoo replicate flips: ${o.acknowledged.length} orders and ${e.acknowledged.length} events acknowledged, none refused, none missing`);
    }
  });
});

describe('the schema zoo, freeze mode: dumping clone, switchover, rollback refused then accepted (durable clusters)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'freeze' } });
    await createZoo(rig.sandbox.blueUrl, { appUser: rig.sandbox.appUser });
  });
  afterAll(() => rig?.stop());

  it('refuses to give up green\'s writes without --accept-data-loss, naming them; with it blue serves as it was at the switchover', async () => {
    const orders = startWriteLoad(rig.sandbox.appUrl, 40, 1);
    const events = startZooWriter(rig.sandbox.appUrl);
    let stopped: Array<Awaited<ReturnType<typeof orders.stop>> | Awaited<ReturnType<typeof events.stop>>> = [];
    try {
      expect((await _clone(rig.deps)).error).toBeUndefined();
      expect((await _compare(rig.deps)).ok).toBe(true);
      // Blue has refused writes since the clone froze it: what it acknowledged is all from before.
      const onBlue = orders.acknowledged();
      const switched = await _switchover(rig.deps);
      expect(switched.error).toBeUndefined();
      expect(switched.steps.find((st) => st.name === 'check-unlogged-tables')?.status).toBe('skipped');
      await new Promise((r) => setTimeout(r, 500));
      await changeZoo(rig.sandbox.appUrl);
      await sql(rig.sandbox.appUrl, `INSERT INTO ${q('documents')} VALUES (5, lo_from_bytea(0, convert_to('made on green', 'UTF8')))`);
      const [o, e] = (stopped = await Promise.all([orders.stop(), events.stop()])) as [Awaited<ReturnType<typeof orders.stop>>, Awaited<ReturnType<typeof events.stop>>];
      // Every write green acknowledged is there before the rollback gives them up.
      expect(await missingOrders(rig.sandbox.greenUrl, o.acknowledged)).toEqual([]);
      expect(await missingEvents(rig.sandbox.greenUrl, e.acknowledged, 0)).toEqual([]);

      const refused = await _rollback(rig.deps);
      expect(refused.error).toMatchObject({ code: 'data_loss_refused', exitCode: 3 });
      for (const table of ['Events', 'customers', ZOO_UNLOGGED.name, 'toast']) expect(refused.error?.message).toContain(displayName(ZOO_SCHEMA, table));
      expect(refused.serving).toBe('green');

      const onBlueBefore = await rowsOf(rig.sandbox.blueUrl, 'customers');
      const back = await _rollback(rig.deps, { acceptDataLoss: true });
      expect(back.error).toBeUndefined();
      expect(back.serving).toBe('blue');
      const state = JSON.parse(readFileSync(`${rig.config.stateDir}/state.json`, 'utf8'));
      const given = state.flips.at(-1).acceptedLosses.map((l: { object: string }) => l.object);
      expect(given).toEqual(expect.arrayContaining(['large objects', `table ${displayName(ZOO_SCHEMA, 'customers')}`, `table ${displayName(ZOO_SCHEMA, ZOO_UNLOGGED.name)}`]));
      // Blue is as it was at the switchover, and serves.
      expect(await rowsOf(rig.sandbox.appUrl, 'customers')).toEqual(onBlueBefore);
      expect(onBlue.length).toBeGreaterThan(0);
      expect(await missingOrders(rig.sandbox.blueUrl, onBlue)).toEqual([]);
      expect(o.acknowledged.length).toBeGreaterThan(onBlue.length);
      console.log(`zoo freeze flips: ${o.acknowledged.length} orders and ${e.acknowledged.length} events acknowledged (${o.refused + e.refused} refused while frozen); rollback gave up: ${given.length} objects`);
    } finally {
      if (!stopped.length) await Promise.all([orders.stop(), events.stop()]);
    }
  });
});

