/**
 * Freeze mode's rollback, inside the pause, green frozen: one read of the counters' total; what came
 * since the guardrails' count is named too (refused, or given up with the rest).
 */
import { changeTotal, changesSinceSwitchover } from '../../adapters/change-counter.js';
import { noted, skipped } from '../operation.js';
import type { FlipOperation } from './context.js';
import { changeLosses, changesRefusal, type GreenChanges } from './green-changes.js';

/** The count before the pause (the guardrails'), or undefined when the loss was accepted uncounted. */
export type CountBeforePause = GreenChanges | undefined;

/** Output only when green changed more since the count: what replaces the count's changes. */
export const recountChanges: FlipOperation<CountBeforePause, Omit<GreenChanges, 'totalBeforePause'> | undefined> = {
  name: (ctx) => `recount-changes-on-${ctx.flip.from}`,
  journalBehind: true,
  title: (ctx) => `Checking ${ctx.flip.from} changed nothing more since the count`,
  // Beside the sequences: its own session, one round trip.
  together: 'after-freeze',
  run: async (ctx, counted) => {
    const before = counted?.totalBeforePause;
    if (before === undefined) return skipped('no counters on green: the loss was accepted as a whole');
    const now = await changeTotal(ctx.sessions.from);
    if (now === before) return noted('nothing more');
    // Rare (a write between the guardrails and the freeze): worth the extra reads inside the pause.
    const lost = (await changesSinceSwitchover(ctx.sessions.from)) ?? [];
    if (!ctx.acceptDataLoss) throw changesRefusal(lost, false, ' (some of it after the count before the pause)');
    const more = (now ?? 0) - before;
    return {
      output: { lostWrites: lost, losses: changeLosses(lost, false) },
      detail: `${more} more row change${more === 1 ? '' : 's'} since the count: accepted`,
    };
  },
};
