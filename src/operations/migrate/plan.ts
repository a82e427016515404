/**
 * `bluegreen migrate` as a runbook. Built-in files: read what is pending, check its effect on a scratch
 * copy of green (replicate mode), then, holding the migrations' lock on green, apply each file (or
 * revert the latest with `--down`). An external tool: check its effect on a scratch copy, then run it
 * on green. Steps stop at the first failure and undo nothing: each migration is all or nothing and
 * recorded with itself, so what applied before a failure stays applied and is reported.
 */
import { BlueGreenError } from '../../core/errors.js';
import { describeLintFinding } from '../../core/migration-lint.js';
import type { Migration } from '../../core/migrations.js';
import type { StepResult } from '../../core/report.js';
import { LockKey, withAdvisoryLock, withClient } from '../../adapters/pg.js';
import { conn } from '../../commands/context.js';
import type { EffectReport } from '../../commands/migrate-effect.js';
import { asBlueGreenError } from '../runner.js';
import { type JournalStep, type Operation, type OperationsOptions, type Outputs, type Planned, runOperations, step } from '../operation.js';
import { applyMigration } from './apply-migration.js';
import { checkCommandEffectOf, type ExternalMigrations } from './command-effect-check.js';
import type { LockedCtx, MigrateCtx, MigrationDone } from './context.js';
import { checkEffectOf } from './effect-check.js';
import { assertCheckedAsPending, assertMigrationsReplicable, latestToRevert, planOnGreen } from './pending.js';
import { revertMigration } from './revert-migration.js';
import { runCommandOnGreen } from './run-command.js';

export const checkPlan = (pending: ReadonlyArray<Migration>): Planned<MigrateCtx>[] =>
  pending.length ? [step(checkEffectOf(pending))] : [];

export const applyPlan = (pending: ReadonlyArray<Migration>): Planned<LockedCtx>[] => pending.map((m) => step(applyMigration(m)));

export const externalPlan = (migrations: ExternalMigrations, replicate: boolean, dryRun: boolean): Planned<MigrateCtx>[] => [
  ...(replicate ? [step(checkCommandEffectOf(migrations))] : []),
  ...(dryRun ? [] : [step(runCommandOnGreen(migrations.command))]),
];

/** What `--dry-run` lists for a file it would apply. */
const wouldApply = (m: Migration): StepResult => ({
  name: m.upFile,
  status: 'skipped',
  ms: 0,
  detail: `dry run: would apply${m.transactional ? '' : ' (outside a transaction)'}`,
});

export interface MigrationRun {
  readonly steps: ReadonlyArray<StepResult>;
  /** Versions applied (those before a failure included: they stay applied). */
  readonly applied: ReadonlyArray<string>;
  readonly reverted: ReadonlyArray<string>;
  /** Dry run: what would be applied. */
  readonly pending: ReadonlyArray<string>;
  readonly effect?: EffectReport;
  readonly logFile?: string;
  /** What stopped the run; nothing after it ran. */
  readonly failed?: BlueGreenError;
}

type Journal = OperationsOptions['journal'];

/**
 * The run's parts, each through the runner, its steps and what they recorded carried into the next part
 * (the later part runs inside green's lock, a scoped resource); a failure ends the run with what was done.
 */
function partsOf(ctx: MigrateCtx, journal: Journal) {
  const done = {
    steps: [] as StepResult[],
    journaled: [] as ReadonlyArray<JournalStep>,
    versions: [] as string[],
    parts: [] as Outputs<MigrateCtx>[],
    /** An output recorded by any part so far (a failed part's included). */
    recorded<Out>(op: Operation<never, never, Out>): Out | undefined {
      return this.parts.map((o) => o.of<Out>(op as Operation<MigrateCtx, never, Out>)).find((v) => v !== undefined);
    },
  };
  const run = async <C extends MigrateCtx>(plan: ReadonlyArray<Planned<C>>, c: C) => {
    const { config, progress } = ctx.deps;
    const outcome = await runOperations(plan, c, {
      progress,
      secrets: config.secrets,
      undoOnFailure: false,
      ...(journal ? { journal: { ...journal, earlier: done.journaled } } : {}),
    });
    done.steps.push(...outcome.steps);
    done.journaled = outcome.journaled;
    done.parts.push(outcome.outputs as Outputs<MigrateCtx>);
    for (const p of plan) {
      const out = outcome.outputs.of<MigrationDone | undefined>(p.op);
      if (out && 'version' in out) done.versions.push(out.version);
    }
    if (outcome.failed) throw outcome.failed.error;
  };
  return { done, run };
}

/** Built-in migration files: the effect check (replicate mode), then apply or revert holding green's migrations lock. */
export async function runBuiltIn(
  ctx: MigrateCtx,
  dir: string,
  appliedHere: ReadonlyArray<string>,
  down: boolean,
  journal?: Journal,
): Promise<MigrationRun> {
  const { config, progress } = ctx.deps;
  const { done, run } = partsOf(ctx, journal);
  let effect: EffectReport | undefined;
  try {
    if (config.mode === 'replicate' && !down) {
      // Checked with no session of ours left on green: a scratch copy made from green as a template needs that.
      const pending = (await withClient(config.green, (g) => planOnGreen(g, dir), conn(ctx.deps, 'green', 'migrate'))).pending;
      for (const w of await assertMigrationsReplicable(pending)) progress.info(describeLintFinding(w));
      const check = checkPlan(pending);
      await run(check, ctx);
      effect = check.length ? done.recorded<EffectReport>(check[0].op) : undefined;
    }
    return await withClient(
      config.green,
      (green) =>
        withAdvisoryLock(green, LockKey.migrations, 'migration run', async (): Promise<MigrationRun> => {
          const plan = await planOnGreen(green, dir);
          assertCheckedAsPending(plan.pending, effect);
          if (down) {
            await run([step(revertMigration(await latestToRevert(dir, appliedHere)))], { ...ctx, green });
            return { steps: done.steps, applied: [], reverted: done.versions, pending: [] };
          }
          if (ctx.dryRun) done.steps.push(...plan.pending.map(wouldApply));
          else await run(applyPlan(plan.pending), { ...ctx, green });
          if (plan.pending.length === 0) progress.info('no pending migrations: green is up to date');
          const pending = ctx.dryRun ? plan.pending.map((m) => m.version) : [];
          return { steps: done.steps, applied: done.versions, reverted: [], pending, effect };
        }),
      conn(ctx.deps, 'green', 'migrate'),
    );
  } catch (error) {
    const failed = asBlueGreenError(error, config.secrets);
    return { steps: done.steps, applied: down ? [] : done.versions, reverted: [], pending: [], effect, failed };
  }
}

/** An external migration tool: its effect on a scratch copy (replicate mode), then the tool on green. */
export async function runExternal(
  ctx: MigrateCtx,
  migrations: ExternalMigrations,
  down: boolean,
  journal?: Journal,
): Promise<MigrationRun> {
  const { config } = ctx.deps;
  const { done, run } = partsOf(ctx, journal);
  const none = { applied: [], reverted: [], pending: [] };
  if (down) {
    const failed = new BlueGreenError('--down works only with the built-in runner', {
      hint: "Use your migration tool's own undo against green.",
    });
    return { steps: [], ...none, failed };
  }
  const plan = externalPlan(migrations, config.mode === 'replicate', ctx.dryRun);
  const check = config.mode === 'replicate' ? plan[0].op : undefined;
  try {
    await run(plan, ctx);
  } catch (error) {
    const effect = check && done.recorded<EffectReport>(check);
    return { steps: done.steps, ...none, effect, failed: asBlueGreenError(error, config.secrets) };
  }
  const effect = check && done.recorded<EffectReport>(check);
  if (ctx.dryRun) {
    const detail = `dry run: would run \`${migrations.command}\` against green`;
    return { steps: [...done.steps, { name: 'external command', status: 'skipped', ms: 0, detail }], ...none, effect };
  }
  return { steps: done.steps, ...none, effect, logFile: done.recorded<{ logFile: string }>(plan[plan.length - 1].op)?.logFile };
}
