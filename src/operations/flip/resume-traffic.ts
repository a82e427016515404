/**
 * RESUME: clients go on, to the new side. The point of no return: RESUME on any instance lets clients
 * write there, so from here the flip only goes forward. What the pooler routes to is confirmed after.
 */
import { sideTarget } from '../../adapters/pointer.js';
import { pgbouncerRestartNote } from '../../commands/flip-faults.js';
import type { FlipOperation } from './context.js';

export interface Resumed {
  /** How long clients were held (the longest instance's PAUSE → RESUME). */
  readonly pauseMs?: number;
  /** A PgBouncer fleet: each instance's own pause. */
  readonly pausesMs?: ReadonlyArray<{ readonly instance: string; readonly ms: number }>;
}

export const resumeTraffic: FlipOperation<void, Resumed> = {
  name: 'resume',
  journalBehind: true,
  title: () => 'Resuming transactions',
  pointOfNoReturn: true,
  run: async (ctx) => {
    const { config, pointer } = ctx.deps;
    const { flip } = ctx;
    if (!pointer.canPause) {
      await pointer.confirm(sideTarget(config, flip.to));
      return { skipped: 'nothing was paused' };
    }
    await pointer.resume();
    const each = pointer.lastPauses();
    // Each instance's own PAUSE → RESUME (the longest is what a client may have waited), else ours around the call.
    const start = ctx.live.pauseStart;
    const pauseMs = each.length
      ? Math.max(...each.map((p) => p.ms))
      : start !== undefined
        ? Math.round(performance.now() - start)
        : undefined;
    // Known before the confirmation below: a report of a failure there still says how long clients waited.
    ctx.live.pauseMs = pauseMs;
    // What the pooler itself routes to now, not what we wrote: a RELOAD it did not take shows here.
    await pointer.confirm(sideTarget(config, flip.to));
    const pausesMs = each.length > 1 ? each : undefined;
    const restarted = pgbouncerRestartNote(pointer, flip);
    const output = { pauseMs, pausesMs };
    if (pauseMs === undefined) return { output, detail: `transactions flow${restarted}` };
    const longest = pausesMs && Math.max(...pausesMs.map((p) => p.ms));
    const instances = pausesMs
      ? ` (per instance: ${pausesMs.map((p) => `${p.instance} ${p.ms} ms`).join(', ')}; longest ${longest} ms)`
      : '';
    return { output, detail: `writes paused for ${pauseMs} ms${instances}${restarted}` };
  },
};
