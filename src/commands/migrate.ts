/**
 * `bluegreen migrate`: applies migrations to green only. The built-in runner keeps a history table
 * (version, name, sha256, applied_at, duration, who), refuses changed applied files, runs each
 * migration in its own transaction unless it opts out, and holds an advisory lock. Or an external
 * command (Flyway, Alembic, …) runs with green's connection in DATABASE_URL and PG* variables.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { BlockedError, BlueGreenError, MigrationError } from '../core/errors.js';
import { describeLintFinding, type LintFinding, lintMigrations, uncheckedReason } from '../core/migration-lint.js';
import { parseScript } from '../adapters/sql-parser.js';
import { describeEffectFinding } from '../core/migration-effect.js';
import {
  assertEffectSafe,
  checkBuiltInEffect,
  checkCommandEffect,
  type EffectReport,
  leftApplied,
  postgresErrorLines,
  runMigrationCommand,
} from './migrate-effect.js';
import {
  type AppliedMigration,
  findMigrations,
  loadMigration,
  type Migration,
  type MigrationPlan,
  planMigrations,
} from '../core/migrations.js';
export { readHistory } from '../adapters/migration-history.js';
import { redact } from '../core/redact.js';
import type { Report, StepResult } from '../core/report.js';
import { advance } from '../core/state.js';
import { cancelRunningQuery, type Client, LockKey, withAdvisoryLock, withClient } from '../adapters/pg.js';
import { allowOwnWrites, freezeWrites, unfreezeWrites } from '../adapters/write-guard.js';
import { readSchema } from '../adapters/catalog/schema-snapshot.js';
import { ensureHistory, forgetApplied, readHistory, recordApplied } from '../adapters/migration-history.js';
import { schemaFile, writeFileAtomic } from '../adapters/state-store.js';
import { runScript } from '../adapters/migration-script.js';
import { conn, controlled, type Deps, loadState } from './context.js';

/** Reads the migration files of a folder and plans them against what is applied. */
export async function readMigrationPlan(dir: string, applied: ReadonlyArray<AppliedMigration>): Promise<MigrationPlan> {
  if (!existsSync(dir))
    throw new BlueGreenError(`migrations.dir: ${dir} does not exist`, { hint: 'Create it, or fix migrations.dir in the config.' });
  const { migrations, problems } = findMigrations(readdirSync(dir));
  if (problems.length)
    throw new BlueGreenError(`migrations.dir: ${problems.join('; ')}`, {
      hint: 'Rename the files as <version>_<name>.up.sql / .down.sql.',
    });
  const loaded = migrations.map((m) =>
    loadMigration(
      m,
      readFileSync(path.join(dir, m.upFile), 'utf8'),
      m.downFile ? readFileSync(path.join(dir, m.downFile), 'utf8') : undefined,
    ),
  );
  return planMigrations(loaded, applied);
}

/**
 * `migrations.timeoutMs`: past it the running migration's statement is cancelled from another session.
 * A migration in a transaction is then rolled back whole, as any failure; the error says why.
 */
async function withTimeLimit(
  url: string,
  green: Client,
  timeoutMs: number | undefined,
  m: Migration,
  secrets: ReadonlyArray<string>,
  run: () => Promise<void>,
): Promise<void> {
  if (!timeoutMs) return run();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void cancelRunningQuery(url, green, secrets);
  }, timeoutMs);
  try {
    await run();
  } catch (error) {
    if (!timedOut) throw error;
    throw new MigrationError(
      `${m.upFile} ran past migrations.timeoutMs (${timeoutMs} ms) and was cancelled: ${m.transactional ? 'nothing of it was applied' : 'it ran outside a transaction, so the statements that finished before stay applied'}`,
      {
        hint: `${m.transactional ? 'Green is as it was before this migration. ' : ''}Find what made it slow (a lock held on green, a large table rewrite), or raise migrations.timeoutMs, then run \`bluegreen migrate\` again.`,
        cause: error,
      },
    );
  } finally {
    clearTimeout(timer);
  }
}

/** Replicate mode: refuses, before anything runs, migrations that would break replication or the rollback path. */
export async function assertMigrationsReplicable(pending: ReadonlyArray<Migration>): Promise<LintFinding[]> {
  const files = await Promise.all(pending.map(async (m) => ({ file: m.upFile, sql: m.up, parsed: await parseScript(m.up) })));
  const findings = lintMigrations(files);
  const refused = findings.filter((f) => f.severity === 'refuse');
  if (refused.length === 0) return findings;
  throw new BlockedError(
    `${refused.length} migration statement${refused.length > 1 ? 's' : ''} cannot run in replicate mode:\n${refused.map((f) => `  ${describeLintFinding(f)}`).join('\n')}`,
    {
      hint: 'Nothing was applied. Change the migrations as suggested (expand now, contract in a later cutover), mark a file `-- bluegreen:unchecked <reason>` to take responsibility for it, or use "mode": "freeze".',
    },
  );
}

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

async function builtIn(
  deps: Deps,
  dir: string,
  options: MigrateOptions,
  migrationsApplied: ReadonlyArray<string>,
): Promise<{ steps: StepResult[]; applied: string[]; reverted: string[]; pending: string[]; effect?: EffectReport }> {
  const { config, progress } = deps;
  const planOf = async (green: Client) => {
    await allowOwnWrites(green);
    await ensureHistory(green);
    const plan = await readMigrationPlan(dir, await readHistory(green));
    if (plan.changed.length) {
      throw new MigrationError(
        `applied migration${plan.changed.length > 1 ? 's have' : ' has'} changed since: ${plan.changed.map((c) => c.file).join(', ')}`,
        {
          hint: 'An applied migration must never be edited: restore the file, and put the change in a new migration.',
        },
      );
    }
    return plan;
  };
  const steps: StepResult[] = [];
  let effect: EffectReport | undefined;
  if (config.mode === 'replicate' && !options.down) {
    // Checked with no session of ours left on green: a scratch copy made from green as a template needs that.
    const pending = (await withClient(config.green, planOf, conn(deps, 'green', 'migrate'))).pending;
    for (const w of await assertMigrationsReplicable(pending)) progress.info(describeLintFinding(w));
    if (pending.length) {
      progress.start(`Checking the effect of ${pending.length} migration${pending.length > 1 ? 's' : ''} on a scratch copy of green`);
      effect = await checkBuiltInEffect(deps, pending);
      progress.succeed(
        `Effect checked on a scratch copy of green (${effect.ms} ms): ${effect.findings.length ? `${effect.findings.length} finding${effect.findings.length > 1 ? 's' : ''}` : 'replication-safe'}`,
      );
      for (const f of effect.findings.filter((x) => x.severity === 'warn')) progress.info(`${f.source}: ${describeEffectFinding(f)}`);
      if (!options.dryRun) assertEffectSafe(effect);
      steps.push({
        name: 'effect-check',
        status: 'ok',
        ms: effect.ms,
        detail: 'scratch copy of green: schema before and after, data changes',
      });
    }
  }
  return withClient(
    config.green,
    async (green) =>
      withAdvisoryLock(green, LockKey.migrations, 'migration run', async () => {
        const plan = await planOf(green);
        // What runs must be what was checked (the lock is taken after the check).
        if (effect && plan.pending.map((m) => m.upFile).join('\n') !== effect.changes.map((c) => c.source).join('\n')) {
          throw new MigrationError('the pending migrations changed while their effect was being checked', {
            hint: 'Run `bluegreen migrate` again.',
          });
        }
        if (options.down) {
          const version = migrationsApplied[migrationsApplied.length - 1];
          if (!version)
            throw new BlueGreenError('no migration applied in this cutover to revert', {
              hint: 'Down scripts run only on green, for migrations applied since the clone.',
            });
          const all = await readMigrationPlan(dir, []);
          const m = all.pending.find((p) => p.version === version);
          if (!m?.down || !m.downFile)
            throw new BlueGreenError(`migration ${version} has no down script`, {
              hint: `Add ${version}_<name>.down.sql, or clone green again.`,
            });
          const start = performance.now();
          progress.start(`reverting ${m.downFile}`);
          await runScript(green, m, m.downFile, m.down, m.transactional, config.secrets, async () => {
            await forgetApplied(green, version);
          });
          const ms = Math.round(performance.now() - start);
          progress.succeed(`reverted ${m.downFile} (${ms} ms)`);
          steps.push({ name: m.downFile, status: 'ok', ms });
          return { steps, applied: [], reverted: [version], pending: [] };
        }
        const applied: string[] = [];
        for (const m of plan.pending) {
          if (options.dryRun) {
            steps.push({
              name: m.upFile,
              status: 'skipped',
              ms: 0,
              detail: `dry run: would apply${m.transactional ? '' : ' (outside a transaction)'}`,
            });
            continue;
          }
          progress.start(`applying ${m.upFile}`);
          const start = performance.now();
          try {
            await withTimeLimit(config.green, green, config.migrations?.timeoutMs, m, config.secrets, () =>
              runScript(green, m, m.upFile, m.up, m.transactional, config.secrets, async () => {
                await recordApplied(green, m, Math.round(performance.now() - start), deps.who, uncheckedReason(m.up));
              }),
            );
          } catch (error) {
            progress.fail(`${m.upFile} failed`);
            steps.push({
              name: m.upFile,
              status: 'failed',
              ms: Math.round(performance.now() - start),
              detail: (error as Error).message.split('\n')[1]?.trim(),
            });
            throw Object.assign(error as Error, { partial: { steps, applied } });
          }
          const ms = Math.round(performance.now() - start);
          progress.succeed(`applied ${m.upFile} (${ms} ms)`);
          steps.push({ name: m.upFile, status: 'ok', ms });
          applied.push(m.version);
        }
        if (plan.pending.length === 0) progress.info('no pending migrations: green is up to date');
        return { steps, applied, reverted: [], pending: options.dryRun ? plan.pending.map((m) => m.version) : [], effect };
      }),
    conn(deps, 'green', 'migrate'),
  );
}

async function external(
  deps: Deps,
  migrations: { readonly command: string; readonly historyTables?: ReadonlyArray<string> },
  options: MigrateOptions,
): Promise<{ steps: StepResult[]; effect?: EffectReport; logFile?: string }> {
  const { config, progress } = deps;
  const command = migrations.command;
  if (options.down)
    throw new BlueGreenError('--down works only with the built-in runner', { hint: "Use your migration tool's own undo against green." });
  const steps: StepResult[] = [];
  let effect: EffectReport | undefined;
  if (config.mode === 'replicate') {
    // The tool runs first where nothing is at stake: its effect decides whether it may run on green.
    progress.start(`Running \`${command}\` on a scratch copy of green to see its effect`);
    const checked = await checkCommandEffect(deps, command, migrations.historyTables);
    effect = checked;
    progress.succeed(
      `Effect checked on a scratch copy of green (${checked.ms} ms): ${checked.changes[0].lines.length} schema change${checked.changes[0].lines.length === 1 ? '' : 's'}, ${checked.findings.length ? `${checked.findings.length} finding${checked.findings.length > 1 ? 's' : ''}` : 'replication-safe'}`,
    );
    for (const f of checked.findings.filter((x) => x.severity === 'warn')) progress.info(describeEffectFinding(f));
    if (!options.dryRun) assertEffectSafe(checked);
    steps.push({ name: 'effect-check', status: 'ok', ms: checked.ms, detail: `scratch copy; its output: ${checked.run.logFile}` });
  }
  if (options.dryRun) {
    steps.push({ name: 'external command', status: 'skipped', ms: 0, detail: `dry run: would run \`${command}\` against green` });
    return { steps, effect };
  }
  // Green refuses application writes before the switchover; the migration tool is not an application.
  await withClient(config.green, unfreezeWrites, conn(deps, 'green', 'migrate'));
  const before = await withClient(config.green, readSchema, conn(deps, 'green', 'migrate'));
  progress.start(`running \`${command}\` against green`);
  const start = performance.now();
  try {
    const run = await runMigrationCommand(deps, command, config.green, 'green', config.migrations?.timeoutMs);
    const ms = Math.round(performance.now() - start);
    if (run.exitCode !== 0) {
      progress.fail(`migration command failed (exit ${run.exitCode})`);
      const left = leftApplied(before, await withClient(config.green, readSchema, conn(deps, 'green', 'migrate')));
      const errors = postgresErrorLines(run.output);
      throw new MigrationError(
        `migration command ${run.timedOut ? `ran past migrations.timeoutMs (${config.migrations?.timeoutMs} ms) and was stopped` : `failed (exit ${run.exitCode})`}: ${redact(command, config.secrets)}\n  ${(errors.length ? errors : run.output.trim().split('\n').slice(-10)).join('\n  ')}\n  left applied on green: ${left.length ? `\n    ${left.join('\n    ')}` : 'nothing (the schema is as before)'}`,
        {
          hint: `Its whole output is in ${run.logFile}. Green was not switched to; fix the migration and run \`bluegreen migrate\` again.`,
        },
      );
    }
    progress.succeed(`migration command finished (${ms} ms); output kept in ${run.logFile}`);
    steps.push({ name: 'external command', status: 'ok', ms, detail: `output: ${run.logFile}` });
    return { steps, effect, logFile: run.logFile };
  } finally {
    await withClient(config.green, (c) => freezeWrites(c, 'green before switchover').then(() => undefined), conn(deps, 'green', 'migrate'));
  }
}

export async function _migrate(deps: Deps, options: MigrateOptions = {}): Promise<MigrateResult> {
  const { config } = deps;
  if (!config.migrations) return { ok: true, steps: [], applied: [], reverted: [], pending: [] };
  const initial = await loadState(deps);
  advance(initial, 'migrate-started', '', ''); // throws if the phase does not allow it
  const migrations = config.migrations;
  const at = () => deps.clock.now().toISOString();
  if (options.dryRun) {
    if ('command' in migrations)
      return { ok: true, ...(await external(deps, migrations, options)), applied: [], reverted: [], pending: [] };
    const r = await builtIn(deps, migrations.dir, options, initial.migrationsApplied);
    return { ok: true, ...r };
  }
  return controlled(deps, options.down ? 'migrate --down' : 'migrate', async () => {
    let state = advance(await loadState(deps), 'migrate-started', at(), deps.who);
    await deps.store.save(state);
    try {
      if ('command' in migrations) {
        const r = await external(deps, migrations, options);
        state = advance(state, 'migrate-finished', at(), deps.who);
        return { ok: true, ...r, applied: [], reverted: [], pending: [] };
      }
      const r = await builtIn(deps, migrations.dir, options, state.migrationsApplied);
      state = advance(state, 'migrate-finished', at(), deps.who, {
        migrationsApplied: [...state.migrationsApplied.filter((v) => !r.reverted.includes(v)), ...r.applied],
        lastError: undefined,
      });
      return { ok: true, ...r };
    } catch (error) {
      const partial = (error as { partial?: { steps: StepResult[]; applied: string[] } }).partial;
      state = advance(state, 'migrate-finished', at(), deps.who, {
        migrationsApplied: [...state.migrationsApplied, ...(partial?.applied ?? [])],
        lastError: redact((error as Error).message, config.secrets),
      });
      throw error;
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
