/** Inside the pause, after the drain: the new direction's slot starts at the side we go to's current position. */
import { advanceSlotToNow } from '../../adapters/replication.js';
import { noted } from '../operation.js';
import type { FlipOperation } from './context.js';

export const startReverseSlot: FlipOperation<void, void> = {
  name: 'start-reverse-slot',
  journalBehind: true,
  title: (ctx) => `Starting the ${ctx.flip.to} → ${ctx.flip.from} slot at ${ctx.flip.to}'s current position`,
  together: 'after-drain',
  // Everything before this point came from the side we leave (or was ours): the new direction must not send it back.
  run: async (ctx) => noted(`at ${await advanceSlotToNow(ctx.sessions.toSlot, ctx.next.slot)}`),
};
