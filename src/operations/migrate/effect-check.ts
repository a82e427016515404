/**
 * Replicate mode: the pending migration files run first on a scratch copy of green, where nothing is at
 * stake, and their effect (schema before and after, data changes) decides whether they may run on green.
 * Its undo drops a scratch copy a killed controller left and enables again the subscriptions the copy
 * disabled: what `resume` does after a kill during the check.
 */
import { dropScratchCopies } from '../../adapters/scratch.js';
import type { Config } from '../../core/config.js';
import { describeEffectFinding } from '../../core/migration-effect.js';
import type { Migration } from '../../core/migrations.js';
import { assertEffectSafe, checkBuiltInEffect, type EffectReport } from '../../commands/migrate-effect.js';
import type { Operation } from '../operation.js';
import type { MigrateCtx } from './context.js';

const plural = (n: number, word: string) => `${n} ${word}${n > 1 ? 's' : ''}`;

/** Drops the effect check's scratch copies left on green's server (and re-enables what they disabled); how many. */
export function dropLeftScratchCopies(config: Pick<Config, 'green' | 'secrets'>): Promise<number> {
  return dropScratchCopies({ greenUrl: config.green, secrets: config.secrets });
}

export function checkEffectOf(pending: ReadonlyArray<Migration>): Operation<MigrateCtx, void, EffectReport> {
  return {
    name: 'effect-check',
    title: () => `Checking the effect of ${plural(pending.length, 'migration')} on a scratch copy of green`,
    ownProgress: true,
    run: async (ctx) => {
      const { progress } = ctx.deps;
      progress.start(`Checking the effect of ${plural(pending.length, 'migration')} on a scratch copy of green`);
      const effect = await checkBuiltInEffect(ctx.deps, pending);
      const verdict = effect.findings.length ? plural(effect.findings.length, 'finding') : 'replication-safe';
      progress.succeed(`Effect checked on a scratch copy of green (${effect.ms} ms): ${verdict}`);
      for (const f of effect.findings.filter((x) => x.severity === 'warn')) progress.info(`${f.source}: ${describeEffectFinding(f)}`);
      if (!ctx.dryRun) assertEffectSafe(effect);
      return { output: effect, detail: 'scratch copy of green: schema before and after, data changes' };
    },
    undo: async (ctx) => void (await dropLeftScratchCopies(ctx.deps.config)),
    undone: () => "the effect check's scratch copies of green dropped",
  };
}
