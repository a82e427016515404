/**
 * `bluegreen finalize`: closes the rollback window. Green keeps serving without our guard; blue is
 * retired: left frozen, marked with a comment, never dropped by us (its data is the last copy of the
 * old version, and dropping it is the operator's call). The steps are in `src/operations/finalize/`.
 */
import { BlockedError } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import type { Report } from '../core/report.js';
import { advance, type CutoverState, windowLeftMs } from '../core/state.js';
import { fileJournal } from '../adapters/run-journal.js';
import { controlled, type Deps, loadState } from './context.js';
import { plannedSteps, runOperations } from '../operations/operation.js';
import { failedAt } from '../operations/runner.js';
import type { FinalizeCtx } from '../operations/finalize/context.js';
import { finalizePlan } from '../operations/finalize/plan.js';
import { retireSide } from '../operations/finalize/retire-side.js';

export interface FinalizeOptions {
  readonly dryRun?: boolean;
  /** Close the window before it ends. */
  readonly force?: boolean;
}

/** Finalizing gives up the rollback: refused while the window is open, unless forced. */
function refuseInsideWindow(deps: Deps, state: CutoverState, options: FinalizeOptions): void {
  const left = windowLeftMs(state, deps.clock.now().getTime());
  if (left !== undefined && left > 0 && !options.force) {
    throw new BlockedError(`the rollback window is open for another ${formatDuration(left)} (until ${state.rollbackWindowEndsAt})`, {
      hint: 'Finalizing gives up the rollback. Wait for the window to close, or pass --force.',
    });
  }
}

export async function _finalize(deps: Deps, options: FinalizeOptions = {}): Promise<Report> {
  const { config } = deps;
  const at = () => deps.clock.now().toISOString();
  const initial = await loadState(deps);
  advance(initial, 'finalize-started', at(), deps.who);
  const serving = initial.serving;
  const retired = serving === 'green' ? 'blue' : 'green';
  const ctx: FinalizeCtx = { deps, cutover: initial.id, serving, retired, at };
  if (options.dryRun) {
    refuseInsideWindow(deps, initial, options);
    return { ok: true, steps: plannedSteps(finalizePlan, ctx) };
  }
  return controlled(deps, 'finalize', async () => {
    // Inside the controlled part, so the refusal is in the audit log (and the notify hook hears of it).
    refuseInsideWindow(deps, initial, options);
    let state = advance(await loadState(deps), 'finalize-started', at(), deps.who);
    await deps.store.save(state);
    const journal = { sink: fileJournal(config.stateDir, state.id, 'finalize'), command: 'finalize', cutover: state.id, startedAt: at() };
    const outcome = await runOperations(finalizePlan, ctx, {
      progress: deps.progress,
      secrets: config.secrets,
      undoOnFailure: false,
      journal,
    });
    if (outcome.failed) {
      await deps.store.save({ ...state, lastError: outcome.failed.error.message });
      const hint = `${serving} still serves. Fix the cause and run \`bluegreen finalize\` again.`;
      return { ok: false, steps: outcome.steps, error: failedAt('finalize', outcome.failed, hint) };
    }
    // The side being retired may be gone for good (blue lost in the window): recorded as lost, fenced when it answers.
    const gone = outcome.outputs.of(retireSide)?.gone;
    state = advance(state, 'finalize-finished', at(), deps.who, {
      blueFrozen: serving === 'green',
      forward: undefined,
      reverse: undefined,
      ...(gone ? { lost: { side: retired, at: at(), why: gone } } : {}),
    });
    await deps.store.save(state);
    return { ok: true, steps: outcome.steps };
  });
}
