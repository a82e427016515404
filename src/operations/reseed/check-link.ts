/** First: a re-seed is for a direction that lost its WAL (or its slot); a running one is left alone. */
import { BlockedError } from '../../core/errors.js';
import { slotLag } from '../../adapters/replication.js';
import type { Operation } from '../operation.js';
import type { ReseedContext } from './context.js';

export const checkLink: Operation<ReseedContext, void, { walStatus: string }> = {
  name: 'check-link',
  title: (ctx) => `Checking replication ${ctx.publisher} → ${ctx.standby} needs re-seeding`,
  run: async (ctx) => {
    const lag = await slotLag(ctx.onPublisher, ctx.link.slot);
    const walStatus = !lag.exists ? 'missing' : (lag.walStatus ?? 'unknown');
    if (ctx.unfinished) {
      const emptied = ctx.unfinished.emptiedAt ? `, ${ctx.standby}'s copies emptied at ${ctx.unfinished.emptiedAt}` : '';
      return {
        output: { walStatus },
        detail: `an earlier re-seed did not finish (started ${ctx.unfinished.startedAt}${emptied}): starting over`,
      };
    }
    if (walStatus !== 'lost' && walStatus !== 'missing') {
      throw new BlockedError(
        `replication ${ctx.publisher} → ${ctx.standby} has its WAL (slot ${ctx.link.slot}: ${walStatus}): there is nothing to re-seed`,
        { hint: '`bluegreen status` shows its lag; a re-seed is for a slot invalidated (lost) or dropped. Nothing was changed.' },
      );
    }
    return { output: { walStatus }, detail: `slot ${ctx.link.slot}: ${walStatus}` };
  },
};
