/** What abort's operations share: the ports, and the record as abort found it (the clone's journal is found by its id). */
import type { CutoverState } from '../../core/state.js';
import type { Deps } from '../../commands/context.js';

export interface AbortCtx {
  readonly deps: Deps;
  readonly state: CutoverState;
}

/** open-blue's output: blue did not answer (why), so blue's part of the abort waits for it. */
export interface BlueReach {
  readonly blueGone?: string;
}
