/**
 * PAUSE: new transactions wait in the pooler. Before it, the heartbeat's channel is listened to (the
 * drain is told, no round trip inside the pause) and the side we go to's sequences are set to the side
 * we leave's values (it is frozen, so they hold still): inside the pause only the few that moved since
 * are read and set. The undo, last of all, lets transactions go once the side we leave is open again.
 */
import { presyncSequences, type SequencePlan } from '../../adapters/catalog/sequences.js';
import { watchHeartbeat } from '../../adapters/heartbeat.js';
import { blockerPolicy, namePauseHolders, refuseLateBlockers } from '../../commands/flip-blockers.js';
import type { FlipOperation } from './context.js';
import { replicates } from './context.js';

export interface Paused {
  /** Every sequence by oid with what the target holds, from before the pause. */
  readonly sequencePlan: SequencePlan;
  readonly presynced: { readonly advanced: number; readonly movedAhead: number };
}

export const pause: FlipOperation<void, Paused> = {
  name: 'pause',
  // Clients are held: its journal entries go out with the next step's that waits, or when the plan ends.
  journalBehind: true,
  title: (ctx) => `Pausing new transactions (${ctx.deps.pointer.description})`,
  run: async (ctx) => {
    const { config, pointer } = ctx.deps;
    const { flip, sessions } = ctx;
    if (replicates(ctx)) ctx.live.heartbeat = await watchHeartbeat(sessions.to);
    // Sequences by oid, filtered on the server, inside the pause: only those that moved since now.
    const { plan, advanced, movedAhead } = await presyncSequences(sessions.fromSequences, sessions.toSequences);
    const output: Paused = { sequencePlan: plan, presynced: { advanced, movedAhead } };
    if (!pointer.canPause)
      return { skipped: "this pointer has no pooler to pause: writes wait only as long as the application's own switch takes", output };
    // PAUSE would wait for a transaction opened since the blockers step: refused now, nothing paused.
    await refuseLateBlockers(sessions.from, flip.from, blockerPolicy(ctx.deps, ctx.blockers));
    ctx.live.pauseStart = performance.now();
    await pointer.pause(Math.min(config.switchover.pauseTimeoutMs, ctx.deadline() - performance.now())).catch(async (error: Error) => {
      throw await namePauseHolders(sessions.from, flip.from, error, config.switchover.pauseTimeoutMs);
    });
    return { output };
  },
  // Last of the undos: the side we leave is open again before PgBouncer lets transactions go.
  undo: async (ctx) => {
    if (!ctx.deps.pointer.canPause || ctx.live.pauseStart === undefined) return;
    await ctx.deps.pointer.resume();
    ctx.live.pauseMs = Math.round(performance.now() - ctx.live.pauseStart);
  },
  undone: () => 'transactions resumed',
};
