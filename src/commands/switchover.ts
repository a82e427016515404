/** `bluegreen switchover` and `bluegreen rollback`: the flip in each direction. */
import type { BlockerAction } from '../core/blockers.js';
import { _flip, type FlipResult, type LostWrites } from './flip.js';
import type { Deps } from './context.js';

export interface SwitchoverOptions {
  readonly dryRun?: boolean;
  /** Switch over although DDL made on blue since the clone cannot be carried to green. */
  readonly acceptDataLoss?: boolean;
  /** Sessions that would hold the pause: wait for them (then refuse), cancel their queries, or end them. */
  readonly blockers?: BlockerAction;
}

export function _switchover(deps: Deps, options: SwitchoverOptions = {}): Promise<FlipResult> {
  return _flip(deps, { direction: 'switchover', from: 'blue', to: 'green' }, options);
}

export interface RollbackOptions {
  readonly dryRun?: boolean;
  /** Roll back although something is lost: rows written on green (freeze mode), or what green's DDL made impossible to carry. */
  readonly acceptDataLoss?: boolean;
  readonly blockers?: BlockerAction;
}

export function _rollback(deps: Deps, options: RollbackOptions = {}): Promise<FlipResult & { lostWrites?: LostWrites[] }> {
  return _flip(deps, { direction: 'rollback', from: 'green', to: 'blue' }, options);
}
