/** `migrate --down`: reverts the latest migration applied in this cutover with its down script, and forgets it in the history. */
import type { Revertible } from './pending.js';
import { forgetApplied } from '../../adapters/migration-history.js';
import { runScript } from '../../adapters/migration-script.js';
import type { Operation } from '../operation.js';
import type { LockedCtx, MigrationDone } from './context.js';

export function revertMigration(m: Revertible): Operation<LockedCtx, void, MigrationDone> {
  return {
    name: m.downFile,
    title: () => `reverting ${m.downFile}`,
    ownProgress: true,
    run: async ({ deps, green }) => {
      const start = performance.now();
      deps.progress.start(`reverting ${m.downFile}`);
      await runScript(green, m, m.downFile, m.down, m.transactional, deps.config.secrets, async () => {
        await forgetApplied(green, m.version);
      });
      deps.progress.succeed(`reverted ${m.downFile} (${Math.round(performance.now() - start)} ms)`);
      return { output: { version: m.version } };
    },
  };
}
