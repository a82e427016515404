/**
 * Alembic as `migrations.command` (Debian 12's python3-alembic on SQLAlchemy 1.4 and psycopg2) for a
 * small SQLAlchemy application, in a replicate-mode cutover: the effect check runs Alembic on a scratch
 * copy of green that carries `alembic_version`, so it applies exactly what it would on green; additive
 * revisions apply and green's `alembic_version` holds the head; a revision PostgreSQL rejects is
 * reported with PostgreSQL's error and the revision; a destructive one is refused before green changes.
 */
import { copyFileSync, cpSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _compare } from '../../src/commands/compare.js';
import type { Deps } from '../../src/commands/context.js';
import { _migrate, type MigrateResult } from '../../src/commands/migrate.js';
import { _switchover } from '../../src/commands/switchover.js';
import { DEBIAN_PYTHON } from '../support/python.js';
import { type Rig, sql, startRig } from './helpers.js';

const APP = path.resolve('test/support/alembic-app');

describe('Alembic as the migration command (replicate mode)', () => {
  let rig: Rig;
  let deps: Deps;
  let versions: string;
  /** A failed migrate's report: not ok, and its error (message, hint, exit code) as the CLI prints it. */
  const refusal = async (p: Promise<MigrateResult>) => {
    const r = await p;
    expect(r.ok).toBe(false);
    return r.error;
  };
  const green = (text: string) => sql(rig.sandbox.greenUrl, text);
  const headOnGreen = () => green(`SELECT version_num FROM alembic_version`);
  /** The scratch run's whole output: which revisions Alembic ran there (the log's path is in the hint or the step's detail). */
  const scratchLog = (pointer: string | undefined) => readFileSync(/\S*migrate-scratch-\S*\.log/.exec(pointer ?? '')![0], 'utf8');

  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate' } });
    // The project as an application ships it, beside the config; later revisions are added by the steps below.
    cpSync(APP, path.join(rig.dir, 'alembic-app'), { recursive: true, filter: (src) => !src.includes(`${path.sep}later`) && !src.includes('__pycache__') });
    versions = path.join(rig.dir, 'alembic-app', 'versions');
    // Debian's interpreter by path (apt's alembic is not in a pyenv python3's path); `-m alembic` needs no script on PATH.
    deps = { ...rig.deps, config: { ...rig.config, migrations: { command: `${DEBIAN_PYTHON} -m alembic -c alembic-app/alembic.ini upgrade head` } } };
    expect((await _clone(rig.deps)).ok).toBe(true);
  });
  afterAll(() => rig?.stop());

  it('dry run: Alembic runs on a scratch copy; a new table and a nullable column are replication-safe; green is not touched', async () => {
    const dry = await _migrate(deps, { dryRun: true });
    expect(dry.effect?.changes[0].lines).toEqual(expect.arrayContaining(['+ column public.orders.client_ref: text', expect.stringMatching(/^\+ table public\.watchlists\b/)]));
    expect(dry.effect?.findings.filter((f) => f.severity === 'refuse')).toEqual([]);
    expect(await green(`SELECT to_regclass('watchlists') AS t, to_regclass('alembic_version') AS v`)).toEqual([{ t: null, v: null }]);
  });

  it('migrate applies both revisions on green, and alembic_version there holds the head', async () => {
    const applied = await _migrate(deps);
    expect(applied.ok).toBe(true);
    expect(readFileSync(applied.logFile!, 'utf8')).toMatch(/Running upgrade {2}-> 0001, A new table[\s\S]*Running upgrade 0001 -> 0002, A nullable column/);
    expect(await headOnGreen()).toEqual([{ version_num: '0002' }]);
    expect(await green(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'client_ref'`)).toEqual([{ n: 1 }]);
    expect(await green(`SELECT to_regclass('watchlists')::text AS t`)).toEqual([{ t: 'watchlists' }]);
  });

  it('a revision PostgreSQL rejects: its error and the revision are reported, and nothing is applied', async () => {
    copyFileSync(path.join(APP, 'later', '0003_broken_index.py'), path.join(versions, '0003_broken_index.py'));
    const failed = await refusal(_migrate(deps));
    // Freeze mode runs the command straight on green, without the scratch copy: the same report from there.
    const onGreen = await refusal(_migrate({ ...deps, config: { ...deps.config, mode: 'freeze' } }));
    rmSync(path.join(versions, '0003_broken_index.py'));
    expect(failed?.exitCode).toBe(1);
    expect(failed?.message).toMatch(/failed on a scratch copy of green \(exit 1\), before anything ran on green itself/);
    for (const error of [failed, onGreen]) {
      // PostgreSQL's message, the statement, and the revision: Alembic's id and message, its file and line.
      expect(error?.message).toContain('psycopg2.errors.UndefinedColumn: column "client_reference" does not exist');
      expect(error?.message).toContain('[SQL: CREATE INDEX orders_client_reference_idx ON orders (client_reference)]');
      expect(error?.message).toContain("Running upgrade 0002 -> 0003, A release's mistake");
      expect(error?.message).toMatch(/versions\/0003_broken_index\.py", line \d+, in upgrade/);
      expect(error?.message).not.toContain('sqlalche.me');
    }
    // Alembic's run is one transaction: the failing revision left nothing on green.
    expect(onGreen?.message).toContain('left applied on green: nothing (the schema is as before)');
    // The scratch copy carried alembic_version: Alembic ran only the new revision there, not 0001 and 0002 again.
    const log = scratchLog(failed?.hint);
    expect(log).toContain('Running upgrade 0002 -> 0003');
    expect(log).not.toContain('-> 0001');
    expect(await headOnGreen()).toEqual([{ version_num: '0002' }]);
  });

  it('a destructive revision (drop column) is refused by the effect check, exit 3, with green untouched', async () => {
    copyFileSync(path.join(APP, 'later', '0003_drop_user_name.py'), path.join(versions, '0003_drop_user_name.py'));
    const refused = await refusal(_migrate(deps));
    rmSync(path.join(versions, '0003_drop_user_name.py'));
    expect(refused?.exitCode).toBe(3);
    expect(refused?.message).toContain("the migrations' effect cannot run in replicate mode (seen on a scratch copy of green; green was not touched)");
    expect(refused?.message).toContain('- column public.users.name: text');
    expect(refused?.message).toContain('(drop-column, identity)');
    expect(await green(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'`)).toEqual([{ n: 1 }]);
    expect(await headOnGreen()).toEqual([{ version_num: '0002' }]);
    expect(await green(`SELECT datname FROM pg_database WHERE datname LIKE 'bluegreen_scratch_%'`)).toEqual([]);
  });

  it('the cutover goes on with the migrated schema: compare sees only the migrations, the switchover succeeds', async () => {
    const compare = await _compare(deps);
    expect(compare.schema.unexpected).toEqual([]);
    expect(compare.tables.filter((t) => !['ok', 'new-on-green'].includes(t.status))).toEqual([]);
    expect((await _switchover(deps)).error).toBeUndefined();
    // The application's next `alembic upgrade head` against the serving side has nothing to do.
    expect(await headOnGreen()).toEqual([{ version_num: '0002' }]);
  });
});
