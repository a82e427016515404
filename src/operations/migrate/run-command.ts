/**
 * Runs the external migration tool (Flyway, Alembic, …) against green, with green's connection in
 * DATABASE_URL and PG* variables. Green refuses application writes before the switchover; the tool is
 * not an application, so green is opened for it and frozen again whatever happens. On a failure the
 * error says what the tool left applied (schema before and after), with PostgreSQL's own lines.
 */
import { MigrationError } from '../../core/errors.js';
import { redact } from '../../core/redact.js';
import { readSchema } from '../../adapters/catalog.js';
import { withClient } from '../../adapters/pg.js';
import { freezeWrites, unfreezeWrites } from '../../adapters/write-guard.js';
import { conn, type Deps } from '../../commands/context.js';
import { type CommandRun, leftApplied, postgresErrorLines, runMigrationCommand } from '../../commands/migrate-effect.js';
import type { SchemaSnapshot } from '../../core/schema-diff.js';
import type { Operation } from '../operation.js';
import type { MigrateCtx } from './context.js';

/** What the tool's failure says: how it ended, PostgreSQL's lines (or its last ones), and what it left applied. */
async function commandFailure(deps: Deps, command: string, run: CommandRun, before: SchemaSnapshot): Promise<MigrationError> {
  const { config } = deps;
  const left = leftApplied(before, await withClient(config.green, readSchema, conn(deps, 'green', 'migrate')));
  const errors = postgresErrorLines(run.output);
  const ended = run.timedOut
    ? `ran past migrations.timeoutMs (${config.migrations?.timeoutMs} ms) and was stopped`
    : `failed (exit ${run.exitCode})`;
  const lines = (errors.length ? errors : run.output.trim().split('\n').slice(-10)).join('\n  ');
  const stays = left.length ? `\n    ${left.join('\n    ')}` : 'nothing (the schema is as before)';
  return new MigrationError(
    `migration command ${ended}: ${redact(command, config.secrets)}\n  ${lines}\n  left applied on green: ${stays}`,
    {
      hint: `Its whole output is in ${run.logFile}. Green was not switched to; fix the migration and run \`bluegreen migrate\` again.`,
    },
  );
}

export function runCommandOnGreen(command: string): Operation<MigrateCtx, void, { readonly logFile: string }> {
  return {
    name: 'external command',
    title: () => `running \`${command}\` against green`,
    ownProgress: true,
    run: async ({ deps }) => {
      const { config, progress } = deps;
      await withClient(config.green, unfreezeWrites, conn(deps, 'green', 'migrate'));
      const before = await withClient(config.green, readSchema, conn(deps, 'green', 'migrate'));
      progress.start(`running \`${command}\` against green`);
      const start = performance.now();
      try {
        const run = await runMigrationCommand(deps, command, config.green, 'green', config.migrations?.timeoutMs);
        const ms = Math.round(performance.now() - start);
        if (run.exitCode !== 0) {
          progress.fail(`migration command failed (exit ${run.exitCode})`);
          throw await commandFailure(deps, command, run, before);
        }
        progress.succeed(`migration command finished (${ms} ms); output kept in ${run.logFile}`);
        return { output: { logFile: run.logFile }, detail: `output: ${run.logFile}` };
      } finally {
        const freeze = (c: Parameters<typeof freezeWrites>[0]) => freezeWrites(c, 'green before switchover').then(() => undefined);
        await withClient(config.green, freeze, conn(deps, 'green', 'migrate'));
      }
    },
  };
}
