/** The commands that take a cutover from nothing to a switchover: preflight, clone, migrate, compare, run. */
import { describeEffectFinding } from '../../core/migration-effect.js';
import { _clone } from '../../commands/clone.js';
import { _compare } from '../../commands/compare.js';
import { _migrate, type MigrateResult } from '../../commands/migrate.js';
import { _preflight } from '../../commands/preflight.js';
import { _run, type RunResult } from '../../commands/run.js';
import { configOption, dryRunOption, flag, jsonOption, wholeNumber } from '../options.js';
import { defineCommand } from '../register.js';
import { dryRunNote, renderCompare, renderFindings, renderSteps, stepsReport } from '../render.js';

export const preflightCommand = defineCommand({
  name: 'preflight',
  description: 'check blue, green, the pointer and this machine before anything is created',
  options: { config: configOption(), json: jsonOption() },
  action: (cli, o) =>
    cli.execute(
      o,
      (deps) => _preflight(deps),
      (r) => renderFindings(r.findings),
    ),
});

export const cloneCommand = defineCommand({
  name: 'clone',
  description: 'copy roles and the database from blue to green from one snapshot',
  options: {
    config: configOption(),
    dryRun: dryRunOption(),
    jobs: { flags: '--jobs <n>', description: 'parallel pg_dump / pg_restore jobs', schema: wholeNumber(1), default: 2 },
    acceptDataLoss: flag(
      '--accept-data-loss',
      're-create green although it holds the only copy of what the last rollback gave up (recorded)',
    ),
  },
  action: (cli, o) =>
    cli.execute(
      o,
      (deps) => _clone(deps, { dryRun: o.dryRun, jobs: o.jobs, acceptDataLoss: o.acceptDataLoss }),
      (r) => {
        const backup = r.dump ? `\n\nBackup kept: ${r.dump.path} (${r.dump.tocEntries} entries)` : '';
        return `${stepsReport(o.dryRun ? 'Clone plan' : `Cutover ${r.cutover}: clone`)(r)}${backup}${dryRunNote(o.dryRun)}`;
      },
    ),
});

export const migrateCommand = defineCommand({
  name: 'migrate',
  description: 'apply pending migrations to green only (never blue)',
  options: {
    config: configOption(),
    dryRun: dryRunOption(),
    down: flag('--down', 'revert the latest migration applied in this cutover, with its down script'),
  },
  action: (cli, o) =>
    cli.execute(
      o,
      (deps) => _migrate(deps, { dryRun: o.dryRun, down: o.down }),
      (r) => renderMigrate(r, o.dryRun),
    ),
});

/** A failed migrate prints nothing here: its error, printed after, says what failed. */
function renderMigrate(r: MigrateResult, dryRun?: boolean): string {
  if (!r.ok) return '';
  if (!r.steps.length) return 'No migrations configured or pending: green is up to date.';
  return (
    [renderSteps(r.steps), ...renderEffect(r), ...(r.logFile ? ['', `The command's whole output: ${r.logFile}`] : [])].join('\n') +
    dryRunNote(dryRun)
  );
}

/** Replicate mode: what each migration did to a scratch copy of green, and what the lint says of it. */
function renderEffect({ effect }: MigrateResult): string[] {
  if (!effect) return [];
  return [
    '',
    'Effect, as seen on a scratch copy of green:',
    ...effect.changes.map(
      (c) => `  ${c.source}:${c.lines.length ? `\n${c.lines.map((l) => `    ${l}`).join('\n')}` : ' no schema change'}`,
    ),
    ...(effect.findings.length ? ['', ...effect.findings.map((f) => `  ${f.source}: ${describeEffectFinding(f)}`)] : []),
  ];
}

export const compareCommand = defineCommand({
  name: 'compare',
  description: 'compare blue and green: the content of every row (hashed), the schema, integrity on both sides, large objects',
  options: { config: configOption(), json: jsonOption() },
  action: (cli, o) => cli.execute(o, (deps) => _compare(deps), renderCompare),
});

export const runCommand = defineCommand({
  name: 'run',
  description: 'preflight → clone → migrate → compare → switchover, stopping at the first failure',
  options: { config: configOption(), json: jsonOption(), dryRun: dryRunOption() },
  action: (cli, o) => cli.execute(o, (deps) => _run(deps, { dryRun: o.dryRun }), renderRun),
});

function renderRun(r: RunResult): string {
  return [
    ...r.stages.map((s) => `${s.ok ? '✔' : '✖'} ${s.stage}${s.steps.length ? `\n${renderSteps(s.steps).replace(/^/gm, '    ')}` : ''}`),
    ...(r.compare ? ['', renderCompare(r.compare)] : []),
    ...(r.switchover?.writePauseMs !== undefined ? ['', `Write pause: ${r.switchover.writePauseMs} ms`] : []),
  ].join('\n');
}
