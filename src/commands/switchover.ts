/** `bluegreen switchover` and `bluegreen rollback`: the flip in each direction. */
import type { BlockerAction } from '../core/blockers.js';
import { _flip, type FlipResult, type LostWrites } from './flip.js';
import type { Deps } from './context.js';
import { BlockedError } from '../core/errors.js';
import { type PrivilegePlan, recheckReverse } from '../core/privileges.js';
import { withClient } from '../adapters/pg.js';
import { probePrivileges } from '../adapters/privilege-probe.js';
import { conn } from './context.js';

export interface SwitchoverOptions {
  readonly dryRun?: boolean;
  /** Switch over although DDL made on blue since the clone cannot be carried to green. */
  readonly acceptDataLoss?: boolean;
  /** Sessions that would hold the pause: wait for them (then refuse), cancel their queries, or end them. */
  readonly blockers?: BlockerAction;
}

export async function _switchover(deps: Deps, options: SwitchoverOptions = {}): Promise<FlipResult> {
  // Declared by preflight at the clone, refused here before anything pauses: never found after the flip.
  const privileges = await greenRechecked(deps, !!options.dryRun);
  if (privileges && !privileges.rollbackLossless && !options.dryRun) {
    if (!options.acceptDataLoss) {
      throw new BlockedError(`the rollback after this switchover would not be lossless: ${privileges.rollbackLoss}`, {
        hint:
          'Grant the privilege preflight names (then clone again), ' +
          'or switch over with --accept-data-loss to give up a lossless rollback.',
      });
    }
    await deps.store.audit({
      at: deps.clock.now().toISOString(),
      by: deps.who,
      command: 'switchover',
      outcome: 'data-loss-accepted',
      detail: `no lossless rollback: ${privileges.rollbackLoss}`,
    });
  }
  return _flip(deps, { direction: 'switchover', from: 'blue', to: 'green' }, options);
}

/**
 * The clone's plan, with green's side of the reverse direction probed again now that green holds its
 * tables (before the clone it could only be predicted): a publication green cannot make there turns the
 * rollback lossy here, recorded in the state so the flip prepares no reverse direction and status says so.
 */
async function greenRechecked(deps: Deps, dryRun: boolean): Promise<PrivilegePlan | undefined> {
  const state = await deps.store.load();
  const plan = state?.privileges;
  if (!state || !plan?.rollbackLossless || state.serving !== 'blue') return plan;
  const green = await withClient(deps.config.green, probePrivileges, conn(deps, 'green', 'switchover'));
  const rechecked = recheckReverse(plan, green);
  if (rechecked.rollbackLossless) return plan;
  if (!dryRun) await deps.store.save({ ...state, privileges: rechecked });
  return rechecked;
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
