/** The broken direction's subscription, slot and publication go: they can never deliver what was lost. */
import { dropPublication, dropSlot, dropSubscription } from '../../adapters/replication.js';
import type { Operation } from '../operation.js';
import type { ReseedContext } from './context.js';

export const dropOldLink: Operation<ReseedContext, void, null> = {
  name: 'drop-old-link',
  title: (ctx) => `Dropping the broken replication ${ctx.publisher} → ${ctx.standby}`,
  run: async (ctx) => {
    await dropSubscription(ctx.onStandby, ctx.link.subscription);
    await dropSlot(ctx.onPublisher, ctx.link.slot);
    await dropPublication(ctx.onPublisher, ctx.link.publication);
    return { output: null, detail: `${ctx.link.subscription} dropped` };
  },
};
