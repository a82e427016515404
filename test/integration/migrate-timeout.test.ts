/**
 * `migrations.timeoutMs`: a migration still running past it is cancelled, nothing of it is applied
 * (it ran in a transaction), and migrate fails saying why; the next migrate runs it again.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _migrate } from '../../src/commands/migrate.js';
import { type Rig, sql, startRig } from './helpers.js';

describe('migrations.timeoutMs', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ config: { migrations: { dir: 'slow-migrations', timeoutMs: 700 } } });
    const dir = path.join(rig.dir, 'slow-migrations');
    mkdirSync(dir);
    writeFileSync(path.join(dir, '0001_slow.up.sql'), `CREATE TABLE made_by_slow (id int PRIMARY KEY);\nINSERT INTO made_by_slow VALUES (1);\nSELECT pg_sleep(30);\n`);
  });
  afterAll(() => rig?.stop());

  it('cancels the running migration past the limit: nothing of it applied, migrate fails saying so', async () => {
    expect((await _clone(rig.deps)).ok).toBe(true);
    const start = performance.now();
    const timedOut = await _migrate(rig.deps);
    expect(timedOut.ok).toBe(false);
    expect(timedOut.error?.message).toMatch(/0001_slow\.up\.sql ran past migrations\.timeoutMs \(700 ms\) and was cancelled: nothing of it was applied/);
    expect(performance.now() - start).toBeLessThan(10_000);
    expect(await sql(rig.sandbox.greenUrl, `SELECT to_regclass('made_by_slow') AS t`)).toEqual([{ t: null }]);
    expect(await sql(rig.sandbox.greenUrl, `SELECT version FROM bluegreen.migrations`)).toEqual([]);
    const state = (await rig.deps.store.load())!;
    expect(state.phase).toBe('ready');
    expect(state.migrationsApplied).toEqual([]);
    expect(state.lastError).toMatch(/timeoutMs/);
    // A quick one under the limit runs.
    writeFileSync(path.join(rig.dir, 'slow-migrations', '0001_slow.up.sql'), `CREATE TABLE made_by_slow (id int PRIMARY KEY);\n`);
    expect((await _migrate(rig.deps)).ok).toBe(true);
    expect(await sql(rig.sandbox.greenUrl, `SELECT to_regclass('made_by_slow')::text AS t`)).toEqual([{ t: 'made_by_slow' }]);
  });
});
