/**
 * Before the pause (replicate mode): what the side we go to adds is carried to the side we leave, so
 * replication back never stops on it (carry-additions.ts).
 */
import { carryAdditions } from '../../commands/carry-additions.js';
import { noted, skipped } from '../operation.js';
import type { FlipOperation } from './context.js';

export const carryToLeaving: FlipOperation<void, void> = {
  name: (ctx) => `carry-to-${ctx.flip.from}`,
  title: (ctx) => `Carrying what ${ctx.flip.to} adds to ${ctx.flip.from}, so replication back never stops on it`,
  unbudgeted: true,
  run: async (ctx) => {
    const { flip } = ctx;
    const carried = await carryAdditions(
      ctx.sessions.to,
      ctx.sessions.from,
      { going: flip.to, leaving: flip.from },
      { stateDir: ctx.deps.config.stateDir, cutoverId: ctx.state.id },
    );
    return carried.length ? noted(carried.join('; ')) : skipped(`${flip.from} has everything ${flip.to} adds`);
  },
};
