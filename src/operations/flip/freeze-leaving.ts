/** Inside the pause: the side traffic leaves refuses writes, ending what is still open there. */
import { freezeInOneTrip, freezeWrites, unfreezeWrites } from '../../adapters/write-guard.js';
import { noted } from '../operation.js';
import { type FlipOperation, replicates } from './context.js';

export const freezeLeaving: FlipOperation<void, void> = {
  name: (ctx) => `freeze-${ctx.flip.from}`,
  journalBehind: true,
  title: (ctx) => `Freezing writes on ${ctx.flip.from}`,
  run: async (ctx) => {
    const { flip } = ctx;
    // Replicate mode: the guard is on every table (clone, then sync-schema for new ones): a flag flip, one round trip.
    // Freeze mode completes the guard first (tables made on green in the window).
    const ended = replicates(ctx)
      ? await freezeInOneTrip(ctx.sessions.from, `${flip.direction} to ${flip.to}`)
      : await freezeWrites(ctx.sessions.from, `${flip.direction} to ${flip.to}`);
    return noted(ended ? `ended ${ended} open transaction${ended > 1 ? 's' : ''}` : undefined);
  },
  // Freeze mode keeps blue frozen until the switchover or an abort; everywhere else the side we leave reopens.
  undo: async (ctx) => {
    if (replicates(ctx) || ctx.flip.direction === 'rollback') await unfreezeWrites(ctx.sessions.from);
  },
  undone: (ctx) => `${ctx.flip.from} reopened`,
};
