/**
 * subscribe-green (replicate mode): green follows blue's writes from the slot's snapshot on. The last
 * step of the clone; undone by dropping the subscription (a green whose database is gone has none).
 */
import { createSubscription, dropSubscription } from '../../adapters/replication.js';
import type { ReplicationLink } from '../../core/state.js';
import type { Operation } from '../operation.js';
import { type CloneCtx, forwardNames, onGreen } from './context.js';

export const subscribeGreen: Operation<CloneCtx, ReplicationLink | undefined, { readonly subscription: string }> = {
  name: 'subscribe-green',
  title: () => "Subscribing green to blue's changes since the snapshot",
  run: async (ctx, names) => {
    if (ctx.deps.config.mode !== 'replicate' || !names) return { skipped: 'freeze mode' };
    await onGreen(ctx, (green) => createSubscription(green, names, ctx.deps.config.addresses.blue.peer));
    return { output: { subscription: names.subscription }, detail: `${names.subscription}: green now follows blue's writes` };
  },
  undo: async (ctx, output) => {
    if (ctx.deps.config.mode !== 'replicate') return;
    const subscription = output?.subscription ?? forwardNames(ctx).subscription;
    await onGreen(ctx, (green) => dropSubscription(green, subscription)).catch((error: Error) => {
      if (!/does not exist/.test(error.message)) throw error;
    });
  },
  undone: () => 'subscription on green dropped',
};
