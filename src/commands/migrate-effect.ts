/**
 * Every migration's effect, checked before green changes, whatever runs it: the pending migrations
 * (built-in files, or the external command) run first against a scratch copy of green's schema on
 * green's server; the schema before and after (and any data change on an existing table) is judged
 * by the lint's model. And the external command as a first-class runner: run in the config's folder,
 * its whole output kept (redacted) in the state folder, PostgreSQL's error lines shown on failure.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { libpqEnv, parseConnString } from '../core/conninfo.js';
import { BlockedError, MigrationError } from '../core/errors.js';
import { type DataChange, describeEffectFinding, type EffectFinding, judgeEffect } from '../core/migration-effect.js';
import { splitQualified } from '../core/quote.js';
import { parseScript } from '../adapters/sql-parser.js';
import type { Migration } from '../core/migrations.js';
import { redact } from '../core/redact.js';
import { describeDifference, diffSchemas, type SchemaSnapshot } from '../core/schema-diff.js';
import { withClient } from '../adapters/pg.js';
import { withScratchCopy } from '../adapters/scratch.js';
import { ensurePrivateDir } from '../adapters/state-store.js';
import { runShell } from '../adapters/shell.js';
import type { Deps } from './context.js';
import { runScript } from '../adapters/migration-script.js';

export interface EffectReport {
  /** What the migrations change, per file (or for the command), as `+ / - / ~` lines. */
  readonly changes: ReadonlyArray<{ readonly source: string; readonly lines: ReadonlyArray<string> }>;
  readonly findings: ReadonlyArray<EffectFinding & { readonly source: string }>;
  readonly ms: number;
}

/** The columns an UPDATE of `table` sets, read from the statement with PostgreSQL's parser; undefined when it cannot be told. */
async function updatedColumns(change: DataChange): Promise<DataChange> {
  if (change.operation !== 'UPDATE' || !change.statement) return change;
  const parsed = await parseScript(change.statement);
  const updates = parsed.statements
    .map(
      (st) =>
        (
          st.node as {
            UpdateStmt?: { relation?: { relname?: string; schemaname?: string }; targetList?: Array<{ ResTarget?: { name?: string } }> };
          }
        ).UpdateStmt,
    )
    .filter((u) => !!u);
  const [schema, name] = splitQualified(change.table);
  const mine = updates.filter((u) => u!.relation?.relname === name && (u!.relation?.schemaname ?? 'public') === schema);
  if (mine.length !== 1 || updates.length !== 1) return change;
  return { ...change, columns: (mine[0]!.targetList ?? []).map((t) => t.ResTarget?.name ?? '') };
}

function changesBetween(before: SchemaSnapshot, after: SchemaSnapshot): string[] {
  return diffSchemas(before, after)
    .unexpected.filter((d) => !d.object.startsWith('database '))
    .map(describeDifference);
}

/** The built-in runner's pending files, one by one on the scratch copy: each finding names its file. */
export async function checkBuiltInEffect(deps: Deps, pending: ReadonlyArray<Migration>): Promise<EffectReport> {
  const { config } = deps;
  const start = performance.now();
  return withScratchCopy({ greenUrl: config.green, binDir: config.binDir, secrets: config.secrets }, async (scratch) =>
    withClient(
      scratch.url,
      async (client) => {
        const changes: EffectReport['changes'][number][] = [];
        const findings: EffectReport['findings'][number][] = [];
        let before = scratch.original;
        for (const m of pending) {
          try {
            await runScript(client, m, m.upFile, m.up, m.transactional, config.secrets, async () => undefined);
          } catch (error) {
            const where = '(on a scratch copy of green, before anything ran on green itself: nothing was applied)';
            throw Object.assign(error as Error, { message: `${(error as Error).message}\n  ${where}` });
          }
          const { schema, dataChanges } = await scratch
            .checkpoint()
            .then(async (c) => ({ ...c, dataChanges: await Promise.all(c.dataChanges.map(updatedColumns)) }));
          changes.push({ source: m.upFile, lines: changesBetween(before, schema) });
          // `-- bluegreen:unchecked` answers for what the lint cannot read; the effect is judged all the same.
          for (const f of judgeEffect(before, schema, dataChanges, scratch.historyTables, scratch.original))
            findings.push({ ...f, source: m.upFile });
          before = schema;
        }
        return { changes, findings, ms: Math.round(performance.now() - start) };
      },
      { label: 'green (scratch copy)', secrets: config.secrets },
    ),
  );
}

export interface CommandRun {
  readonly exitCode: number;
  /** The whole output, redacted. */
  readonly output: string;
  /** Where that output is kept. */
  readonly logFile: string;
  /** Killed past its time limit (migrations.timeoutMs). */
  readonly timedOut?: boolean;
}

/**
 * Runs the external migration command against `url`, in the config's folder, with the connection in
 * DATABASE_URL and PG* variables. Its whole output is kept, redacted, in the state folder.
 */
/** No limit unless migrations.timeoutMs sets one (a day: a migration runs as long as it runs). */
const NO_LIMIT_MS = 24 * 3600 * 1000;

export async function runMigrationCommand(
  deps: Pick<Deps, 'config' | 'clock'>,
  command: string,
  url: string,
  label: string,
  timeoutMs?: number,
): Promise<CommandRun> {
  const { config } = deps;
  // Its own process group, killed whole at the limit: a tool's children (npx → node) outlive a killed shell.
  const result = await runShell(command, {
    cwd: path.dirname(config.file),
    timeoutMs: timeoutMs ?? NO_LIMIT_MS,
    env: { DATABASE_URL: url, ...libpqEnv(parseConnString(url)) },
  });
  const output = redact(String(result.all ?? ''), config.secrets);
  ensurePrivateDir(config.stateDir);
  const logFile = path.join(config.stateDir, `migrate-${label}-${deps.clock.now().toISOString().replace(/[:.]/g, '-')}.log`);
  writeFileSync(logFile, `$ ${redact(command, config.secrets)}\n${output}\n(exit ${result.exitCode ?? result.signal})\n`, { mode: 0o600 });
  return { exitCode: result.exitCode ?? 1, output, logFile, timedOut: result.timedOut };
}

/** Alembic logs each revision before it runs it (`Running upgrade 0002 -> 0003, message`): the last one is the one that failed. */
const ALEMBIC_REVISION = /Running (upgrade|downgrade) \S* ?-> \S+/;

/** A line of a tool's output that carries part of PostgreSQL's error, wherever the tool puts it. */
const ERROR_LINES: ReadonlyArray<RegExp> = [
  /\b(ERROR|FATAL|error|Error)\b/,
  /SQLSTATE/,
  /\b(DETAIL|HINT|POSITION|LINE \d+|QUERY|CONTEXT|WHERE)\b/,
  /\bcode:|\bposition:|\bdetail:|\bhint:/,
  // The migration a tool names as failing.
  /[Mm]igrat(ion|ing)\b.*\b(fail|\.sql|\.js|\.ts)/,
  /^\s*>|pq: /,
  // A Python exception line, SQLAlchemy's statement, and the revision file's frame (not the libraries').
  /^[A-Za-z_]\w*(\.\w+)+: /,
  /^\[SQL: /,
  /^\s*File "(?!.*[/\\](site|dist)-packages[/\\]).*", line \d+, in (upgrade|downgrade)$/,
];

/**
 * The lines of a tool's output that carry PostgreSQL's error: the message with its SQLSTATE, detail,
 * hint, position and the migration the tool names, wherever the tool puts them. Never cut to the last few.
 * Python tools (Alembic on SQLAlchemy and psycopg2) end in a traceback: its exception lines
 * (`sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedColumn) …`), SQLAlchemy's `[SQL: …]`
 * and the revision file's frame (`upgrade()` outside site/dist-packages) are kept; the library frames and SQLAlchemy's help link are not.
 */
export function postgresErrorLines(output: string): string[] {
  const lines = output.split('\n').map((l) => l.trimEnd());
  const wanted = (l: string) => ERROR_LINES.some((r) => r.test(l));
  const noise = /^\(Background on this error at: https:\/\/sqlalche\.me\//;
  const lastRevision = lines.reduce((last, l, i) => (ALEMBIC_REVISION.test(l) ? i : last), -1);
  return lines.filter((l, i) => l.trim() && !noise.test(l) && (wanted(l) || i === lastRevision)).slice(0, 40);
}

/** The external command on the scratch copy: its effect as a whole. */
export async function checkCommandEffect(
  deps: Deps,
  command: string,
  historyTables: ReadonlyArray<string> = [],
): Promise<EffectReport & { run: CommandRun }> {
  const { config } = deps;
  const start = performance.now();
  return withScratchCopy({ greenUrl: config.green, binDir: config.binDir, secrets: config.secrets, historyTables }, async (scratch) => {
    // migrations.timeoutMs bounds the run on the scratch copy too: a migration that hangs there would hang migrate.
    const limit = config.migrations?.timeoutMs;
    const run = await runMigrationCommand(deps, command, scratch.url, 'scratch', limit);
    if (run.timedOut) {
      const what = `the migration command ran past migrations.timeoutMs (${limit} ms) on a scratch copy of green and was stopped`;
      throw new MigrationError(`${what}, before anything ran on green itself: nothing was applied`, {
        hint: `Its output so far is in ${run.logFile}. Find what made it slow, or raise migrations.timeoutMs.`,
      });
    }
    if (run.exitCode !== 0) {
      const lines = postgresErrorLines(run.output).join('\n  ') || run.output.trim().split('\n').slice(-10).join('\n  ');
      const what = `the migration command failed on a scratch copy of green (exit ${run.exitCode})`;
      throw new MigrationError(`${what}, before anything ran on green itself: nothing was applied\n  ${lines}`, {
        hint: `Its whole output is in ${run.logFile}. Fix the migration and run \`bluegreen migrate\` again.`,
      });
    }
    const { schema, dataChanges } = await scratch
      .checkpoint()
      .then(async (c) => ({ ...c, dataChanges: await Promise.all(c.dataChanges.map(updatedColumns)) }));
    const findings = judgeEffect(scratch.original, schema, dataChanges, scratch.historyTables).map((f) => ({ ...f, source: command }));
    return {
      changes: [{ source: command, lines: changesBetween(scratch.original, schema) }],
      findings,
      run,
      ms: Math.round(performance.now() - start),
    };
  });
}

/** Refuses (exit 3) when the effect breaks replication or the rollback; green has not been touched. */
export function assertEffectSafe(report: EffectReport): void {
  const refused = report.findings.filter((f) => f.severity === 'refuse');
  if (!refused.length) return;
  const why = refused.map((f) => `  ${f.source}: ${describeEffectFinding(f)}`).join('\n');
  throw new BlockedError(
    `the migrations' effect cannot run in replicate mode (seen on a scratch copy of green; green was not touched):\n${why}`,
    {
      hint:
        'Nothing was applied to green. Change the migrations as suggested (expand now, contract in a later cutover), ' +
        'or make this change in freeze mode ("mode": "freeze").',
    },
  );
}

/** The `+ / - / ~` lines of what changed on green between two reads: what a failed tool left applied. */
export function leftApplied(before: SchemaSnapshot, after: SchemaSnapshot): string[] {
  return changesBetween(before, after);
}
