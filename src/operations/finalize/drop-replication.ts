/** Drops every replication slot, publication and subscription of ours: none is left retaining WAL. */
import { dropAllReplication } from '../../commands/cleanup.js';
import type { Operation } from '../operation.js';
import type { FinalizeCtx } from './context.js';
import type { RetiredSide } from './retire-side.js';

export const dropReplication: Operation<FinalizeCtx, RetiredSide, number> = {
  name: 'drop-replication',
  title: () => 'Dropping every replication slot, publication and subscription of ours, on both sides',
  run: async (ctx, retired) => {
    // A retired side that is gone keeps its objects until it is fenced on its return.
    const dropped = await dropAllReplication(ctx.deps, retired.gone ? [ctx.serving] : undefined);
    const where = retired.gone ? ` on ${ctx.serving} (${ctx.retired}'s wait for its fence)` : '';
    return dropped ? { output: dropped, detail: `${dropped} dropped${where}: no slot of ours retains WAL` } : { skipped: 'none' };
  },
};
