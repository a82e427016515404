/** Inside the pause (replicate mode): the side we go to applies the side we leave's last writes, told by the heartbeat. */
import { beatHeartbeat, watchHeartbeat } from '../../adapters/heartbeat.js';
import { noted } from '../operation.js';
import type { FlipOperation } from './context.js';

export const drain: FlipOperation<void, void> = {
  name: 'drain',
  journalBehind: true,
  title: (ctx) => `Waiting for ${ctx.flip.to} to apply ${ctx.flip.from}'s last writes`,
  together: 'after-freeze',
  run: async (ctx) => {
    // The heartbeat is the last transaction published on the side we leave: once the other side has it, all is applied.
    const watch = ctx.live.heartbeat ?? (await watchHeartbeat(ctx.sessions.to));
    try {
      const token = await beatHeartbeat(ctx.sessions.from);
      // The budget speaks for a drain that runs out (it cancels our queries first): the wait's own limit is a backstop.
      const polls = await watch.until(token, ctx.deadline() + 1000, 'the drain');
      return noted(`applied through heartbeat ${token}${polls ? ` (${polls} poll${polls > 1 ? 's' : ''})` : ' (told)'}`);
    } finally {
      await watch.close();
    }
  },
};
