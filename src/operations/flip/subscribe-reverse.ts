/** After RESUME (replicate mode): the side we left follows the new side's writes, through the slot prepared before the pause. */
import { BlueGreenError } from '../../core/errors.js';
import { createSubscription, subscriptionHealth, waitForApplyWorker } from '../../adapters/replication.js';
import { noted } from '../operation.js';
import type { FlipOperation } from './context.js';

export const subscribeReverse: FlipOperation<void, void> = {
  name: 'subscribe-reverse',
  title: (ctx) => `Subscribing ${ctx.flip.from} to ${ctx.flip.to}'s writes`,
  run: async (ctx) => {
    const { flip, next } = ctx;
    const { from } = ctx.sessions;
    if (!(await subscriptionHealth(from, next.subscription)).exists)
      await createSubscription(from, next, ctx.deps.config.addresses[flip.to].peer);
    if (!(await waitForApplyWorker(from, next.subscription, 15_000))) {
      throw new BlueGreenError(`the apply worker of ${next.subscription} on ${flip.from} did not start within 15 s`, {
        hint: `See ${flip.from}'s log for why; ${flip.to}'s slot keeps every write until it runs.`,
      });
    }
    return noted(`${flip.from} now follows ${flip.to}'s writes`);
  },
};
