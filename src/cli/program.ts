/**
 * The commander program. The one place that knows about argv, prints results (human or --json),
 * redacts secrets from everything it prints, and sets the exit code: 0 ok, 1 failed, 2 usage or
 * config error, 3 blocked by a preflight finding or guardrail.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import type { BlockerAction } from '../core/blockers.js';
import type { Config } from '../core/config.js';
import { BlueGreenError, ExitCode, UsageError, describeError } from '../core/errors.js';
import { newMigrationVersion, slug } from '../core/migrations.js';
import { redact } from '../core/redact.js';
import { describeEffectFinding } from '../core/migration-effect.js';
import type { Report } from '../core/report.js';
import { terminalProgress } from '../adapters/progress.js';
import { withClient } from '../adapters/pg.js';
import { _abort } from '../commands/abort.js';
import { _clone } from '../commands/clone.js';
import { _compare } from '../commands/compare.js';
import { conn, createDeps, type Deps, loadConfig } from '../commands/context.js';
import { _finalize } from '../commands/finalize.js';
import { _migrate, readHistory, readMigrationPlan } from '../commands/migrate.js';
import { _preflight } from '../commands/preflight.js';
import { _resume } from '../commands/resume.js';
import { _run } from '../commands/run.js';
import { _status } from '../commands/status.js';
import { _syncSchema } from '../commands/sync-schema.js';
import { _rollback, _switchover } from '../commands/switchover.js';
import { DEMO_MIGRATIONS, runDemo, stopDemo } from '../sandbox/demo.js';
import { runManagedDemo } from '../sandbox/demo-managed.js';
import { renderCompare, renderFindings, renderStatus, renderSteps, renderWatchFrame, renderWatchLine, table } from './render.js';
import { toPrometheus } from '../core/prometheus.js';
import { _report } from '../commands/report.js';
import { _watch } from '../commands/watch.js';
import { guard } from '../commands/guard.js';

const DEFAULT_CONFIG = './bluegreen.config.json';
const SECRET_ENV = /PASS|SECRET|TOKEN|KEY|CRED/i;

/** A whole-number option checked with zod: a wrong value is a usage error naming the option (exit 2), never NaN. */
function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const parsed = z.coerce
      .number()
      .int()
      .min(min)
      .safeParse(value.trim() === '' ? Number.NaN : value);
    if (!parsed.success) throw new InvalidArgumentError(`It must be a whole number of at least ${min}.`);
    return parsed.data;
  };
}

/** `--blockers`: sessions on the side traffic leaves that would hold the pause. */
function blockersOption(): Option {
  return new Option(
    '--blockers <action>',
    'sessions that would hold the pause (a transaction open, a long query): wait for them then refuse, cancel their queries, or end their sessions (default: switchover.blockers.action, "wait")',
  ).choices(['wait', 'cancel', 'terminate']);
}

interface CommonOptions {
  readonly config: string;
  readonly json?: boolean;
  readonly dryRun?: boolean;
}

/** Secrets in the environment, redacted even before a config names them. */
function envSecrets(): string[] {
  return Object.entries(process.env)
    .filter(([k, v]) => SECRET_ENV.test(k) && v && v.length >= 4)
    .map(([, v]) => v!);
}

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const defaultIo: Io = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

function exitCodeOf(error: unknown): number {
  return error instanceof BlueGreenError ? error.exitCode : ExitCode.failed;
}

/** Builds the program; `setExitCode` is the only way a command's outcome becomes the process's. */
export function buildProgram(io: Io = defaultIo, setExitCode: (code: number) => void = (c) => (process.exitCode = c)): Command {
  let secrets: string[] = envSecrets();
  const out = (text: string) => io.stdout(`${redact(text, secrets)}\n`);
  const err = (text: string) => io.stderr(`${redact(text, secrets)}\n`);

  /** Loads the config, runs the work, prints the result, sets the exit code. */
  async function execute<T extends { ok?: boolean; error?: Report['error'] }>(
    options: CommonOptions,
    work: (deps: Deps) => Promise<T>,
    render: (result: T) => string,
  ): Promise<void> {
    try {
      const config: Config = loadConfig(options.config);
      secrets = [...new Set([...secrets, ...config.secrets])];
      const deps = createDeps(config, terminalProgress());
      const result = await work(deps);
      const text = options.json ? JSON.stringify(result, null, 2) : render(result);
      if (text) out(text);
      if (result.ok === false) {
        if (result.error) {
          // A blank line between what was printed and the error; a failure that prints nothing else (migrate) shows just the error.
          err(`${text ? '\n' : ''}✖ ${result.error.message}`);
          if (result.error.hint) err(`  ${result.error.hint}`);
        }
        setExitCode(result.error?.exitCode ?? ExitCode.failed);
      } else setExitCode(ExitCode.ok);
    } catch (error) {
      fail(error, options.json);
    }
  }

  function fail(error: unknown, json?: boolean) {
    const e = error instanceof BlueGreenError ? error : undefined;
    const message = describeError(error);
    if (json) out(JSON.stringify({ ok: false, error: { code: e?.code ?? 'failed', message, hint: e?.hint } }, null, 2));
    err(`✖ ${message}`);
    if (e?.hint) err(`  ${e.hint}`);
    if (!e && process.env.BLUEGREEN_DEBUG) err(String((error as Error)?.stack ?? ''));
    setExitCode(exitCodeOf(error));
  }

  const dryRunNote = (dryRun?: boolean) => (dryRun ? '\nDry run: nothing was changed.' : '');
  const stepsReport = (title: string) => (r: Report & { writePauseMs?: number; dryRun?: boolean }) =>
    `${title}\n${renderSteps(r.steps)}${r.writePauseMs !== undefined ? `\n\nWrite pause (PgBouncer PAUSE → RESUME): ${r.writePauseMs} ms` : ''}`;

  const program = new Command('bluegreen')
    .description('Blue-green cutovers for PostgreSQL: clone blue to green, migrate green, compare, switch over, roll back.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .exitOverride()
    .addHelpText(
      'after',
      `
A cutover, step by step:
  bluegreen preflight          check blue, green and the pointer; changes nothing
  bluegreen clone              copy blue to green (freeze mode: blue refuses writes from here)
  bluegreen migrate            apply migrations/ to green only
  bluegreen compare            every row's content, schema and integrity, blue vs green
  bluegreen switchover         pause, sync sequences, point traffic at green, resume
  bluegreen status             what serves, replication, DDL since the last flip, whether a flip is lossless
  bluegreen sync-schema        carry DDL made on the serving side to the other (every flip does it first)
  bluegreen rollback           back to blue within the rollback window
  bluegreen guard              roll back on its own when the application's checks keep failing
  bluegreen finalize           close the window; blue is retired
  bluegreen watch / report     a live view of the window; an HTML page of the whole cutover
Or all of preflight → switchover at once: bluegreen run.
Try it on a local sandbox first: bluegreen demo.

Exit codes: 0 ok, 1 failed, 2 usage or config error, 3 blocked by a preflight finding or guardrail.
Every command reads --config (default ${DEFAULT_CONFIG}); strings in it may use \${ENV_VAR}.`,
    );

  const command = (name: string, description: string, opts: { json?: boolean; dryRun?: boolean } = {}) => {
    const c = program.command(name).description(description).option('-c, --config <file>', 'config file', DEFAULT_CONFIG);
    if (opts.json) c.option('--json', 'print one JSON object on stdout (progress stays on stderr)');
    if (opts.dryRun) c.option('--dry-run', 'print the plan and change nothing');
    return c;
  };

  command('preflight', 'check blue, green, the pointer and this machine before anything is created', { json: true }).action(
    (o: CommonOptions) =>
      execute(
        o,
        async (deps) => _preflight(deps),
        (r) => renderFindings(r.findings).replace(/$/, ''),
      ),
  );

  command('clone', 'copy roles and the database from blue to green from one snapshot', { dryRun: true })
    .option('--jobs <n>', 'parallel pg_dump / pg_restore jobs', wholeNumber(1), 2)
    .option('--accept-data-loss', 're-create green although it holds the only copy of what the last rollback gave up (recorded)')
    .action((o: CommonOptions & { jobs: number; acceptDataLoss?: boolean }) =>
      execute(
        o,
        (deps) => _clone(deps, { dryRun: o.dryRun, jobs: o.jobs, acceptDataLoss: o.acceptDataLoss }),
        (r) =>
          `${stepsReport(o.dryRun ? 'Clone plan' : `Cutover ${r.cutover}: clone`)(r)}${r.dump ? `\n\nBackup kept: ${r.dump.path} (${r.dump.tocEntries} entries)` : ''}${dryRunNote(o.dryRun)}`,
      ),
    );

  command('migrate', 'apply pending migrations to green only (never blue)', { dryRun: true })
    .option('--down', 'revert the latest migration applied in this cutover, with its down script')
    .action((o: CommonOptions & { down?: boolean }) =>
      execute(
        o,
        (deps) => _migrate(deps, { dryRun: o.dryRun, down: o.down }),
        (r) =>
          !r.ok
            ? ''
            : r.steps.length
              ? [
                  renderSteps(r.steps),
                  ...(r.effect
                    ? [
                        '',
                        'Effect, as seen on a scratch copy of green:',
                        ...r.effect.changes.map(
                          (c) => `  ${c.source}:${c.lines.length ? `\n${c.lines.map((l) => `    ${l}`).join('\n')}` : ' no schema change'}`,
                        ),
                        ...(r.effect.findings.length
                          ? ['', ...r.effect.findings.map((f) => `  ${f.source}: ${describeEffectFinding(f)}`)]
                          : []),
                      ]
                    : []),
                  ...(r.logFile ? ['', `The command's whole output: ${r.logFile}`] : []),
                ].join('\n') + dryRunNote(o.dryRun)
              : 'No migrations configured or pending: green is up to date.',
      ),
    );

  const migrations = program.command('migrations').description('create migration files, or list which are applied on green');
  migrations
    .command('create <name>')
    .description('write <version>_<name>.up.sql and .down.sql in the migrations folder')
    .option('-c, --config <file>', 'config file (for migrations.dir)', DEFAULT_CONFIG)
    .option('--dir <dir>', 'migrations folder (default: migrations.dir from the config, else ./migrations)')
    .action((name: string, o: { config: string; dir?: string }) => {
      try {
        let dir = o.dir;
        if (!dir && existsSync(o.config)) {
          const config = loadConfig(o.config);
          if (config.migrations && 'dir' in config.migrations) dir = config.migrations.dir;
        }
        dir = path.resolve(dir ?? 'migrations');
        mkdirSync(dir, { recursive: true });
        const base = `${newMigrationVersion(new Date())}_${slug(name)}`;
        writeFileSync(
          path.join(dir, `${base}.up.sql`),
          `-- ${name}\n-- Expand only in replicate mode: add tables, nullable columns or columns with defaults, indexes.\n`,
          { flag: 'wx' },
        );
        writeFileSync(path.join(dir, `${base}.down.sql`), `-- Undo ${name} (runs on green only, before the switchover)\n`, { flag: 'wx' });
        out(`Created ${path.join(dir, `${base}.up.sql`)}\n        ${path.join(dir, `${base}.down.sql`)}`);
        setExitCode(ExitCode.ok);
      } catch (error) {
        fail(error);
      }
    });
  migrations
    .command('status')
    .description('list migrations: applied on green, pending, or changed since applied')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .option('--json', 'print one JSON object on stdout')
    .action((o: CommonOptions) =>
      execute(
        o,
        async (deps) => {
          const m = deps.config.migrations;
          if (!m || !('dir' in m))
            return {
              ok: true,
              migrations: [] as Array<{ version: string; name: string; status: string }>,
              note: 'migrations.command: the external tool keeps its own history',
              error: undefined as Report['error'],
            };
          let applied: Awaited<ReturnType<typeof readHistory>>;
          try {
            applied = await withClient(deps.config.green, readHistory, conn(deps, 'green', 'migrations status'));
          } catch (error) {
            // Without green's history nothing is known to be pending: listing every file as pending would read as data.
            const why = `unknown: ${describeError(error).split('\n')[0]}`;
            return {
              ok: false,
              migrations: [],
              note: `Migrations on green: ${why}`,
              error: {
                code: 'reading_failed',
                exitCode: ExitCode.failed,
                message: `migrations on green: ${why}`,
                hint: (error as BlueGreenError).hint,
              },
            };
          }
          const plan = await readMigrationPlan(m.dir, applied);
          const changed = new Set(plan.changed.map((c) => c.version));
          const rows = [
            ...plan.applied.map((a) => ({
              version: a.version,
              name: a.name,
              status: `${changed.has(a.version) ? 'CHANGED since applied' : 'applied'}${a.unchecked ? ` (unchecked: ${a.unchecked})` : ''}`,
              ...(a.unchecked ? { unchecked: a.unchecked } : {}),
            })),
            ...plan.pending.map((p) => ({ version: p.version, name: p.name, status: 'pending' })),
          ];
          return {
            ok: plan.changed.length === 0,
            migrations: rows,
            note: undefined as string | undefined,
            error: undefined as Report['error'],
          };
        },
        (r) =>
          r.note ??
          (r.migrations.length
            ? table(
                ['version', 'name', 'status'],
                r.migrations.map((m) => [m.version, m.name, m.status]),
              )
            : 'No migrations.'),
      ),
    );

  command('compare', 'compare blue and green: the content of every row (hashed), the schema, integrity on both sides, large objects', {
    json: true,
  }).action((o: CommonOptions) => execute(o, (deps) => _compare(deps), renderCompare));

  command('switchover', 'point traffic at green: pause, sync sequences, open green, flip, resume', { json: true, dryRun: true })
    .option(
      '--accept-data-loss',
      'switch over although DDL on blue since the clone cannot be carried to green (what is given up is recorded)',
    )
    .addOption(blockersOption())
    .action((o: CommonOptions & { acceptDataLoss?: boolean; blockers?: BlockerAction }) =>
      execute(
        o,
        (deps) => _switchover(deps, { dryRun: o.dryRun, acceptDataLoss: o.acceptDataLoss, blockers: o.blockers }),
        (r) =>
          `${stepsReport(o.dryRun ? 'Switchover plan' : 'Switchover')(r)}${r.ok && !o.dryRun ? '\n\nGreen serves. Blue is kept read-only for the rollback window: `bluegreen status`.' : ''}${dryRunNote(o.dryRun)}`,
      ),
    );

  command('rollback', 'point traffic back at blue within the rollback window', { json: true, dryRun: true })
    .option(
      '--accept-data-loss',
      'roll back although something would be lost: freeze mode, rows written on green; replicate mode, what DDL on green made impossible to carry (recorded)',
    )
    .addOption(blockersOption())
    .action((o: CommonOptions & { acceptDataLoss?: boolean; blockers?: BlockerAction }) =>
      execute(
        o,
        (deps) => _rollback(deps, { dryRun: o.dryRun, acceptDataLoss: o.acceptDataLoss, blockers: o.blockers }),
        (r) => `${stepsReport(o.dryRun ? 'Rollback plan' : 'Rollback')(r)}${dryRunNote(o.dryRun)}`,
      ),
    );

  command(
    'sync-schema',
    "carry the serving side's additive schema changes (tables, columns, enum values, indexes) to the standby, with their data, and say what cannot be carried",
    { json: true, dryRun: true },
  )
    .addHelpText(
      'after',
      `
During replication (replicate mode, from the clone until finalize) the serving side may change its schema: a
deploy adds a column, a table, an enum value. Replication does not carry DDL, so the standby side would lose
those values on the next flip. sync-schema makes the same changes on the standby, extends replication to them
and copies the values written before that by key. Every switchover and rollback runs it before its pause.
What cannot be carried (a dropped or retyped column, a dropped table, a relaxed constraint the standby still
enforces) is listed as a loss: exit 3, and the next flip refuses it without --accept-data-loss.
\`bluegreen status\` shows the same verdict at any moment.`,
    )
    .action((o: CommonOptions) =>
      execute(
        o,
        (deps) => _syncSchema(deps, { dryRun: o.dryRun }),
        (r) =>
          [
            `${o.dryRun ? 'Would carry' : 'Carried'} ${r.from} → ${r.to}:${r.carried.length ? `\n${r.carried.map((c) => `  ${c}`).join('\n')}` : ' nothing (the schemas agree)'}`,
            ...(r.notes.length ? ['', ...r.notes.map((n) => `note: ${n}`)] : []),
            ...(r.losses.length
              ? ['', `Cannot be carried (a flip to ${r.to} would lose them):`, ...r.losses.map((l) => `  ${l.object}: ${l.what}`)]
              : ['', `A flip to ${r.to} is lossless.`]),
          ].join('\n') + dryRunNote(o.dryRun),
      ),
    );

  command('finalize', 'close the rollback window: blue is retired (kept, frozen, not dropped)', { dryRun: true })
    .option('--force', 'finalize before the rollback window ends')
    .action((o: CommonOptions & { force?: boolean }) =>
      execute(
        o,
        (deps) => _finalize(deps, { dryRun: o.dryRun, force: o.force }),
        (r) => `${stepsReport('Finalize')(r)}${dryRunNote(o.dryRun)}`,
      ),
    );

  command('abort', 'give up the cutover before the switchover: blue serves and takes writes again', { dryRun: true }).action(
    (o: CommonOptions) =>
      execute(
        o,
        (deps) => _abort(deps, { dryRun: o.dryRun }),
        (r) => `${stepsReport('Abort')(r)}${dryRunNote(o.dryRun)}`,
      ),
  );

  command('resume', 'after a controller died: finish or cleanly abort what it was doing (safe to run any time)', { json: true }).action(
    (o: CommonOptions) =>
      execute(
        o,
        (deps) => _resume(deps),
        (r) =>
          `${renderSteps(r.steps)}\n\nWas ${r.from}: ${r.outcome === 'nothing-to-resume' ? 'nothing was in progress' : r.outcome}. Now ${r.phase}, ${r.serving} serves.`,
      ),
  );

  command('status', 'phase, what serves, the rollback window, the last flip', { json: true })
    .option('--prometheus', "print the figures in the Prometheus text format (for node_exporter's textfile collector)")
    .addHelpText(
      'after',
      `
Every minute into node_exporter's textfile folder (cron):
  * * * * * bluegreen status --prometheus --config /etc/bluegreen/config.json > /var/lib/node_exporter/bluegreen.prom.$$ && mv /var/lib/node_exporter/bluegreen.prom.$$ /var/lib/node_exporter/bluegreen.prom`,
    )
    .action((o: CommonOptions & { prometheus?: boolean }) =>
      execute(
        o,
        async (deps) => ({ ok: true as const, ...(await _status(deps)) }),
        (r) => (o.prometheus ? toPrometheus(r).trimEnd() : renderStatus(r, Date.now())),
      ),
    );

  command('report', 'write one self-contained HTML page of a cutover: timeline, pauses, lag, compare, migrations, verdict', { json: true })
    .option('--out <file>', 'where to write the page', 'cutover.html')
    .option('--cutover <id>', 'an earlier cutover of this state folder (default: the current one)')
    .action((o: CommonOptions & { out: string; cutover?: string }) =>
      execute(
        o,
        (deps) => _report(deps, { out: o.json ? undefined : o.out, cutover: o.cutover }),
        (r) => `Report of cutover ${r.data.cutover} written to ${r.file} (open it in a browser; it needs no network, and prints well).`,
      ),
    );

  command('watch', 'refresh the status every second until interrupted (one line per reading when not on a terminal)')
    .option('--interval <ms>', 'time between readings', wholeNumber(100), 1000)
    .option('--count <n>', 'stop after this many readings', wholeNumber(1))
    .action(async (o: CommonOptions & { interval: number; count?: number }) => {
      const stop = new AbortController();
      const onInt = () => stop.abort();
      process.once('SIGINT', onInt);
      try {
        await execute(
          o,
          (deps) =>
            _watch(deps, {
              intervalMs: o.interval,
              count: o.count,
              tty: !!process.stdout.isTTY,
              write: (t) => io.stdout(redact(t, secrets)),
              signal: stop.signal,
              frame: renderWatchFrame,
              line: renderWatchLine,
            }),
          () => '',
        );
      } finally {
        process.off('SIGINT', onInt);
      }
    });

  command('guard', 'watch the serving side during the rollback window; roll back (losslessly) when its checks keep failing', {
    json: true,
    dryRun: true,
  })
    .option(
      '--once',
      'evaluate one round and exit with its verdict: 0 healthy, 1 a check failing, 2 nothing to guard, 3 refused or deferred, 4 rolled back',
    )
    .option('--exit-after-action', 'exit (code 4) once it has rolled back, instead of guarding on')
    .action(async (o: CommonOptions & { once?: boolean; exitAfterAction?: boolean }) => {
      // A signal ends the loop between rounds: a rollback under way is finished, never cut.
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
      try {
        await execute(
          o,
          (deps) => guard(deps, { once: o.once, dryRun: o.dryRun, exitAfterAction: o.exitAfterAction, signal: stop.signal }),
          (r) =>
            `guard: ${r.verdict}${r.detail ? `: ${r.detail}` : ''}${r.last ? `\n${r.last.checks.map((c) => `  ${c.ok ? '✔' : '✖'} ${c.name}${c.builtin ? ' (built-in, alerts only)' : ''} ${c.ms} ms${c.detail ? `: ${c.detail}` : ''}`).join('\n')}` : ''}${dryRunNote(o.dryRun)}`,
        );
      } finally {
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      }
    });

  command('run', 'preflight → clone → migrate → compare → switchover, stopping at the first failure', { json: true, dryRun: true }).action(
    (o: CommonOptions) =>
      execute(
        o,
        (deps) => _run(deps, { dryRun: o.dryRun }),
        (r) =>
          [
            ...r.stages.map(
              (s) => `${s.ok ? '✔' : '✖'} ${s.stage}${s.steps.length ? `\n${renderSteps(s.steps).replace(/^/gm, '    ')}` : ''}`,
            ),
            ...(r.compare ? ['', renderCompare(r.compare)] : []),
            ...(r.switchover?.writePauseMs !== undefined ? ['', `Write pause: ${r.switchover.writePauseMs} ms`] : []),
          ].join('\n'),
      ),
  );

  registerDemo(program, out, fail, setExitCode);

  return program;
}

/** Parses argv and runs; commander's own usage errors become exit 2. */
export async function main(
  argv: string[],
  io: Io = defaultIo,
  setExitCode: (code: number) => void = (c) => (process.exitCode = c),
): Promise<void> {
  const program = buildProgram(io, setExitCode);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      setExitCode(
        error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help'
          ? ExitCode.ok
          : ExitCode.usage,
      );
      return;
    }
    throw error;
  }
}

/** `bluegreen demo`: the sandbox's cutover, explained; `--managed` as on a managed service. */
type Print = (text: string) => void;

function registerDemo(program: Command, out: Print, fail: (error: unknown) => void, setExitCode: (code: number) => void): void {
  program
    .command('demo')
    .description('a full cutover on a local sandbox (blue, green, PgBouncer), explained as it goes')
    .option('--keep', 'leave the sandbox running and print a config to try every command by hand')
    .option(
      '--scale <n>',
      'data size: 1 is about 100k rows',
      (v) => {
        const r = z.coerce.number().positive().safeParse(v);
        if (!r.success) throw new InvalidArgumentError('It must be a number above 0.');
        return r.data;
      },
      1,
    )
    .option('--stop <dir>', 'stop a sandbox left running by --keep')
    .option('--mode <mode>', 'replicate (zero downtime) or freeze', 'replicate')
    .option(
      '--green-major <n>',
      'green on another PostgreSQL major (16, 17, 18: a major upgrade; servers from scripts/setup.sh)',
      wholeNumber(15),
    )
    .option('--managed', 'as on a managed service: the tool connects as an admin without SUPERUSER (green 17 unless --green-major)')
    .action(async (o: { keep?: boolean; scale: number; stop?: string; mode: string; greenMajor?: number; managed?: boolean }) => {
      try {
        if (o.stop) {
          await stopDemo(o.stop);
          out(`Stopped and removed the sandbox in ${o.stop}.`);
        } else {
          if (o.mode !== 'replicate' && o.mode !== 'freeze') throw new UsageError(`--mode must be replicate or freeze (got "${o.mode}")`);
          if (o.greenMajor !== undefined && !(Number.isInteger(o.greenMajor) && o.greenMajor >= 15))
            throw new UsageError(`--green-major must be a PostgreSQL major version such as 17 (got "${o.greenMajor}")`);
          if (o.managed && o.mode !== 'replicate') throw new UsageError('--managed shows a replicate-mode cutover; leave out --mode');
          const common = { keep: o.keep, scale: o.scale, greenMajor: o.greenMajor, print: out };
          if (o.managed) await runManagedDemo({ ...common, migrations: DEMO_MIGRATIONS });
          else await runDemo({ ...common, mode: o.mode });
        }
        setExitCode(ExitCode.ok);
      } catch (error) {
        fail(error);
      }
    });
}
