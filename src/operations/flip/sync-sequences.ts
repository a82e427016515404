/**
 * Inside the pause, beside the drain: the side we leave is frozen, so its sequences' values are final, and
 * the apply worker never touches sequences. Only those that moved since the pause's presync are read.
 */
import { syncMovedSequences, syncSequences as syncAll } from '../../adapters/catalog/sequences.js';
import { noted } from '../operation.js';
import type { FlipOperation } from './context.js';
import type { Paused } from './pause.js';

export const syncSequences: FlipOperation<Paused | undefined, void> = {
  name: 'sync-sequences',
  journalBehind: true,
  title: (ctx) => `Syncing sequences ${ctx.flip.from} → ${ctx.flip.to}`,
  together: 'after-freeze',
  run: async (ctx, paused) => {
    const { fromSequences, toSequences } = ctx.sessions;
    if (!paused) return noted(`${await syncAll(fromSequences, toSequences)} advanced`);
    const { advanced, fullRead } = await syncMovedSequences(fromSequences, toSequences, paused.sequencePlan);
    const { advanced: early, movedAhead } = paused.presynced;
    const busy = movedAhead ? `, ${movedAhead} busy one${movedAhead > 1 ? 's' : ''} set a second of traffic ahead` : '';
    const before = `before the pause: ${early} of ${paused.sequencePlan.sequences.length} advanced${busy}`;
    return noted(
      fullRead
        ? `${advanced} advanced (${ctx.flip.from}'s set of sequences changed since the pause began: all read); ${before}`
        : `${advanced} moved since and advanced; ${before}`,
    );
  },
};
