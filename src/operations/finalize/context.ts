/** What every step of `bluegreen finalize` works with: the dependencies and the two sides, fixed before the plan runs. */
import type { Side } from '../../core/state.js';
import type { Deps } from '../../commands/context.js';

export interface FinalizeCtx {
  readonly deps: Deps;
  /** The cutover being finalized (its id marks the retired side). */
  readonly cutover: string;
  /** The side that keeps serving. */
  readonly serving: Side;
  /** The side being retired: kept frozen, marked, never dropped by us. */
  readonly retired: Side;
  /** Now, as an ISO timestamp. */
  readonly at: () => string;
}

export const urlOf = (ctx: FinalizeCtx, side: Side): string => (side === 'blue' ? ctx.deps.config.blue : ctx.deps.config.green);
