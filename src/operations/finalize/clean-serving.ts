/** The serving side without bluegreen's objects: the write guard, the DDL log, freeze mode's change counter. */
import { removeChangeCounter } from '../../adapters/change-counter.js';
import { removeDdlLog } from '../../adapters/ddl-log.js';
import { withClient } from '../../adapters/pg.js';
import { removeWriteGuard } from '../../adapters/write-guard.js';
import { conn } from '../../commands/context.js';
import type { Operation } from '../operation.js';
import { type FinalizeCtx, urlOf } from './context.js';

export const cleanServing: Operation<FinalizeCtx, void, void> = {
  name: (ctx) => `clean-${ctx.serving}`,
  title: (ctx) => `Removing bluegreen's write guard and DDL log from ${ctx.serving}`,
  run: async (ctx) => {
    await withClient(
      urlOf(ctx, ctx.serving),
      async (c) => {
        await removeWriteGuard(c);
        await removeDdlLog(c);
        // Freeze mode's count of green's changes served the rollback, which is given up now.
        await removeChangeCounter(c);
      },
      conn(ctx.deps, ctx.serving, 'finalize'),
    );
    return { output: undefined };
  },
};
