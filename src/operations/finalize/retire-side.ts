/**
 * Retires the side traffic left: frozen, and marked with a comment saying so. Never dropped by us (its
 * data is the last copy of the old version; dropping it is the operator's call). The side may be gone
 * for good (lost in the window): then finalize goes on without it, and the output says so.
 */
import { commentOnCurrentDatabase } from '../../adapters/database.js';
import { withClient } from '../../adapters/pg.js';
import { freezeWrites } from '../../adapters/write-guard.js';
import { conn } from '../../commands/context.js';
import { sideUnreachable } from '../../commands/rollback-without-green.js';
import type { Operation } from '../operation.js';
import { type FinalizeCtx, urlOf } from './context.js';

export interface RetiredSide {
  /** Why the retired side did not answer: it is recorded as lost and fenced when it answers again. */
  readonly gone?: string;
}

export const retireSide: Operation<FinalizeCtx, void, RetiredSide> = {
  name: (ctx) => `retire-${ctx.retired}`,
  title: (ctx) => `Retiring ${ctx.retired} (kept frozen, marked retired, not dropped)`,
  run: async (ctx) => {
    const { deps, retired } = ctx;
    const gone = await sideUnreachable(deps, retired);
    if (gone) {
      const fenced = 'it is fenced (frozen, our replication objects on it dropped) when it answers again';
      return { output: { gone }, skipped: `${retired} is unreachable (${gone}): recorded as lost; ${fenced}` };
    }
    await withClient(
      urlOf(ctx, retired),
      async (c) => {
        await freezeWrites(c, `retired by cutover ${ctx.cutover}`);
        await commentOnCurrentDatabase(
          c,
          `retired by pg-bluegreen cutover ${ctx.cutover} at ${ctx.at()}; drop it when you no longer need it`,
        );
      },
      conn(deps, retired, 'finalize'),
    );
    return { output: {}, detail: 'drop it yourself once you no longer need it' };
  },
};
