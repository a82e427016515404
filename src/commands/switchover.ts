/** `bluegreen switchover` and `bluegreen rollback`: the flip in each direction. */
import type { BlockerAction } from '../core/blockers.js';
import { _flip, type FlipResult, type LostWrites } from './flip.js';
import type { Deps } from './context.js';
import { BlockedError } from '../core/errors.js';

export interface SwitchoverOptions {
  readonly dryRun?: boolean;
  /** Switch over although DDL made on blue since the clone cannot be carried to green. */
  readonly acceptDataLoss?: boolean;
  /** Sessions that would hold the pause: wait for them (then refuse), cancel their queries, or end them. */
  readonly blockers?: BlockerAction;
}

export async function _switchover(deps: Deps, options: SwitchoverOptions = {}): Promise<FlipResult> {
  // Declared by preflight at the clone, refused here before anything pauses: never found after the flip.
  const privileges = (await deps.store.load())?.privileges;
  if (privileges && !privileges.rollbackLossless && !options.dryRun) {
    if (!options.acceptDataLoss) {
      throw new BlockedError(`the rollback after this switchover would not be lossless: ${privileges.rollbackLoss}`, {
        hint: 'Grant the privilege preflight names (then clone again), or switch over with --accept-data-loss to give up a lossless rollback.',
      });
    }
    await deps.store.audit({ at: deps.clock.now().toISOString(), by: deps.who, command: 'switchover', outcome: 'data-loss-accepted', detail: `no lossless rollback: ${privileges.rollbackLoss}` });
  }
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
