/** The one step of `bluegreen sync-schema`: carries the serving side's additive changes to the standby (see `carry`). */
import type { CutoverState, Side } from '../../core/state.js';
import type { WindowVerdict } from '../../core/window.js';
import type { Client } from '../../adapters/pg.js';
import type { Deps } from '../../commands/context.js';
import type { Operation } from '../operation.js';
import { carry, type SyncOutcome } from './carry.js';

export interface SyncCtx {
  readonly deps: Deps;
  readonly state: CutoverState;
  /** The serving side, and a session on it. */
  readonly fromSide: Side;
  readonly from: Client;
  /** The standby side, and a session on it. */
  readonly toSide: Side;
  readonly to: Client;
}

export const carryChanges: Operation<SyncCtx, WindowVerdict, SyncOutcome> = {
  name: 'carry',
  title: (ctx) => `Carrying ${ctx.fromSide}'s changes to ${ctx.toSide}`,
  ownProgress: true,
  run: async (ctx, verdict) => {
    const start = performance.now();
    ctx.deps.progress.start(`Carrying ${ctx.fromSide}'s changes to ${ctx.toSide}`);
    const outcome = await carry(ctx.deps, ctx.state, ctx.from, ctx.to, verdict, false);
    const n = outcome.carried.length;
    ctx.deps.progress.succeed(`Carried ${n} change${n === 1 ? '' : 's'} to ${ctx.toSide} (${Math.round(performance.now() - start)} ms)`);
    return n ? { output: outcome, detail: outcome.carried.join('; ') } : { output: outcome, skipped: 'nothing to carry' };
  },
};
