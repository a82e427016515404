/**
 * `bluegreen migrate`: applies migrations to green only. The built-in runner keeps a history table
 * (version, name, sha256, applied_at, duration, who), refuses changed applied files, runs each
 * migration in its own transaction unless it opts out, and holds an advisory lock. Or an external
 * command (Flyway, Alembic, …) runs with green's connection in DATABASE_URL and PG* variables.
 * The steps are in `src/operations/migrate/`; this records the run in the cutover's state.
 */
import { redact } from '../core/redact.js';
import type { Report } from '../core/report.js';
import { advance, type CutoverState } from '../core/state.js';
import { withClient } from '../adapters/pg.js';
import { readSchema } from '../adapters/catalog.js';
import { fileJournal } from '../adapters/run-journal.js';
import { schemaFile, writeFileAtomic } from '../adapters/state-store.js';
import type { EffectReport } from './migrate-effect.js';
import type { MigrateCtx } from '../operations/migrate/context.js';
import { type MigrationRun, runBuiltIn, runExternal } from '../operations/migrate/plan.js';
import { conn, controlled, type Deps, loadState } from './context.js';
export { readHistory } from '../adapters/migration-history.js';
export { assertMigrationsReplicable, readMigrationPlan } from '../operations/migrate/pending.js';

export interface MigrateOptions {
  readonly dryRun?: boolean;
  /** Revert the latest migration applied in this cutover, with its down script. */
  readonly down?: boolean;
}

export interface MigrateResult extends Report {
  readonly applied: ReadonlyArray<string>;
  readonly reverted: ReadonlyArray<string>;
  readonly pending: ReadonlyArray<string>;
  /** Replicate mode: what the migrations do, as seen on a scratch copy of green first. */
  readonly effect?: EffectReport;
  /** An external command's whole output, redacted. */
  readonly logFile?: string;
}

/** The run as the report every command returns: its steps, and on a failure the error with its hint and exit code. */
function reportOf(run: MigrationRun): MigrateResult {
  const { failed, ...rest } = run;
  if (!failed) return { ok: true, ...rest };
  return { ok: false, ...rest, error: { code: failed.code, exitCode: failed.exitCode, message: failed.message, hint: failed.hint } };
}

/** What the state records after a run: the versions applied in this cutover, and the error if it failed. */
function recorded(state: CutoverState, run: MigrationRun, external: boolean, secrets: ReadonlyArray<string>): Partial<CutoverState> {
  if (run.failed)
    return { migrationsApplied: [...state.migrationsApplied, ...run.applied], lastError: redact(run.failed.message, secrets) };
  if (external) return {};
  return {
    migrationsApplied: [...state.migrationsApplied.filter((v) => !run.reverted.includes(v)), ...run.applied],
    lastError: undefined,
  };
}

export async function _migrate(deps: Deps, options: MigrateOptions = {}): Promise<MigrateResult> {
  const { config } = deps;
  if (!config.migrations) return { ok: true, steps: [], applied: [], reverted: [], pending: [] };
  const migrations = config.migrations;
  const initial = await loadState(deps);
  advance(initial, 'migrate-started', '', ''); // throws if the phase does not allow it
  const at = () => deps.clock.now().toISOString();
  const ctx: MigrateCtx = { deps, dryRun: !!options.dryRun };
  const migrate = (state: CutoverState, journal?: Parameters<typeof runBuiltIn>[4]) =>
    'command' in migrations
      ? runExternal(ctx, migrations, !!options.down, journal)
      : runBuiltIn(ctx, migrations.dir, state.migrationsApplied, !!options.down, journal);
  if (options.dryRun) return reportOf(await migrate(initial));
  const command = options.down ? 'migrate --down' : 'migrate';
  return controlled(deps, command, async () => {
    let state = advance(await loadState(deps), 'migrate-started', at(), deps.who);
    await deps.store.save(state);
    try {
      const sink = fileJournal(config.stateDir, state.id, 'migrate');
      const run = await migrate(state, { sink, command, cutover: state.id, startedAt: at() });
      state = advance(state, 'migrate-finished', at(), deps.who, recorded(state, run, 'command' in migrations, config.secrets));
      return reportOf(run);
    } finally {
      await deps.store.save(state);
      // Whatever the outcome, record what green looks like now: compare counts this as the migrations' doing.
      await withClient(
        config.green,
        async (green) =>
          writeFileAtomic(schemaFile(config.stateDir, state.id, 'after-migrations'), JSON.stringify(await readSchema(green))),
        conn(deps, 'green', 'migrate'),
      );
    }
  });
}
