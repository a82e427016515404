/** After RESUME (replicate mode; no undo: traffic is on the new side): the direction the flip leaves is retired. */
import { dropPublication, dropSlot, dropSubscription } from '../../adapters/replication.js';
import { noted, skipped } from '../operation.js';
import { currentLink, type FlipOperation } from './context.js';

export const stopForward: FlipOperation<void, void> = {
  name: 'stop-forward',
  title: (ctx) => `Retiring replication ${ctx.flip.from} → ${ctx.flip.to}`,
  run: async (ctx) => {
    const current = currentLink(ctx);
    if (!current) return skipped('nothing replicating');
    await dropSubscription(ctx.sessions.to, current.subscription);
    await dropSlot(ctx.sessions.from, current.slot);
    await dropPublication(ctx.sessions.from, current.publication);
    return noted(`${current.subscription} dropped`);
  },
};
