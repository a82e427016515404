/** `bluegreen switchover` and `bluegreen rollback`: the flip in each direction. */
import { _flip, type FlipResult, type LostWrites } from './flip.js';
import type { Deps } from './context.js';

export interface SwitchoverOptions {
  readonly dryRun?: boolean;
}

export function _switchover(deps: Deps, options: SwitchoverOptions = {}): Promise<FlipResult> {
  return _flip(deps, { direction: 'switchover', from: 'blue', to: 'green' }, options);
}

export interface RollbackOptions {
  readonly dryRun?: boolean;
  /** Freeze mode: roll back even though rows written on green since the switchover are lost. */
  readonly acceptDataLoss?: boolean;
}

export function _rollback(deps: Deps, options: RollbackOptions = {}): Promise<FlipResult & { lostWrites?: LostWrites[] }> {
  return _flip(deps, { direction: 'rollback', from: 'green', to: 'blue' }, options);
}
