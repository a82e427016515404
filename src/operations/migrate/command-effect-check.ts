/**
 * Replicate mode with an external migration tool: the tool runs first on a scratch copy of green, where
 * nothing is at stake; its effect decides whether it may run on green.
 */
import { describeEffectFinding } from '../../core/migration-effect.js';
import { assertEffectSafe, checkCommandEffect, type CommandRun, type EffectReport } from '../../commands/migrate-effect.js';
import type { Operation } from '../operation.js';
import type { MigrateCtx } from './context.js';
import { dropLeftScratchCopies } from './effect-check.js';

export interface ExternalMigrations {
  readonly command: string;
  readonly historyTables?: ReadonlyArray<string>;
}

export function checkCommandEffectOf(migrations: ExternalMigrations): Operation<MigrateCtx, void, EffectReport & { run: CommandRun }> {
  const { command } = migrations;
  return {
    name: 'effect-check',
    title: () => `Running \`${command}\` on a scratch copy of green to see its effect`,
    ownProgress: true,
    run: async (ctx) => {
      const { progress } = ctx.deps;
      progress.start(`Running \`${command}\` on a scratch copy of green to see its effect`);
      const checked = await checkCommandEffect(ctx.deps, command, migrations.historyTables);
      const changes = checked.changes[0].lines.length;
      const findings = checked.findings.length;
      const verdict = findings ? `${findings} finding${findings > 1 ? 's' : ''}` : 'replication-safe';
      progress.succeed(
        `Effect checked on a scratch copy of green (${checked.ms} ms): ${changes} schema change${changes === 1 ? '' : 's'}, ${verdict}`,
      );
      for (const f of checked.findings.filter((x) => x.severity === 'warn')) progress.info(describeEffectFinding(f));
      if (!ctx.dryRun) assertEffectSafe(checked);
      return { output: checked, detail: `scratch copy; its output: ${checked.run.logFile}` };
    },
    undo: async (ctx) => void (await dropLeftScratchCopies(ctx.deps.config)),
    undone: () => "the effect check's scratch copies of green dropped",
  };
}
