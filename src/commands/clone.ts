/**
 * `bluegreen clone`: blue → green from one consistent snapshot, roles included.
 *
 * Freeze mode: blue stops taking application writes before the snapshot and stays frozen until the
 * switchover or an abort; the dump (kept as the pre-migration backup, checked readable, its path
 * recorded) is the whole truth. Replicate mode: blue stays open; the snapshot is the one a logical
 * slot exports, so replication continues exactly where the copy ends; by default the rows stream
 * from that snapshot straight into green (clone.backup "none") and only the schema is dumped.
 *
 * The steps are operations in src/operations/clone/ (the runbook: plan.ts). The runner journals each
 * step's output in the state folder and, on a failure, undoes in reverse what started; the message
 * says what the undo did (failure.ts). `abort` and `resume` undo from the same journal.
 */
import { BlueGreenError } from '../core/errors.js';
import { advance, newCutover, type CutoverState } from '../core/state.js';
import type { Report } from '../core/report.js';
import { fileJournal } from '../adapters/run-journal.js';
import { controlled, type Deps, loadState, newCutoverId } from './context.js';
import { assertFactsNotBlocked, gatherFacts, greenResettable, recordGreenReCreated } from './preflight.js';
import { failedAt } from '../operations/runner.js';
import { plannedSteps, runOperations } from '../operations/operation.js';
import { cloneContext, type CloneCtx, type CloneRecord, settle } from '../operations/clone/context.js';
import { clonePlan } from '../operations/clone/plan.js';
import { cloneUndone } from '../operations/clone/failure.js';
import { dropForwardLink } from '../operations/clone/forward-link.js';

export interface CloneOptions {
  readonly dryRun?: boolean;
  readonly acceptDataLoss?: boolean; // re-create green although it holds the only copy of what a rollback gave up
  /** Parallel jobs for pg_dump and pg_restore (default: 2, measured best on a 2-core machine). */
  readonly jobs?: number;
}

export interface CloneResult extends Report {
  readonly cutover: string;
  readonly dump?: CutoverState['dump'];
}

/** The plan `--dry-run` prints: every step, nothing run. */
function dryRun(deps: Deps, draft: CutoverState, options: CloneOptions, resetGreen: boolean): CloneResult {
  const ctx = cloneContext(deps, { state: () => draft, update: async () => {} }, { jobs: options.jobs, resetGreen });
  return { ok: true, cutover: draft.id, steps: plannedSteps(clonePlan(ctx), ctx) };
}

/** The plan run with its journal; on a failure the runner has undone what started, and the record says so. */
async function runClone(deps: Deps, ctx: CloneCtx, record: CloneRecord & { save(s: CutoverState): Promise<void> }): Promise<CloneResult> {
  const at = () => deps.clock.now().toISOString();
  const state = record.state();
  const outcome = await runOperations(clonePlan(ctx), ctx, {
    progress: deps.progress,
    secrets: deps.config.secrets,
    undoAll: true,
    settle: () => settle(ctx.live),
    journal: { sink: fileJournal(deps.config.stateDir, state.id, 'clone'), command: 'clone', cutover: state.id, startedAt: at() },
  });
  if (!outcome.failed) {
    await record.save(advance(record.state(), 'clone-finished', at(), deps.who));
    return { ok: true, cutover: state.id, dump: record.state().dump, steps: outcome.steps };
  }
  const undone = cloneUndone(ctx, outcome);
  const err = outcome.failed.error;
  // The names stay in the record until the objects are really gone: abort (or the next clone) needs them.
  const kept = { ...record.state(), forward: undone.forwardLeft ? record.state().forward : undefined };
  await record.save(advance(kept, 'clone-failed', at(), deps.who, { lastError: err.message }));
  const hint = `${err.hint ? `${err.hint} ` : ''}Blue serves.${undone.sentence}`;
  return {
    ok: false,
    cutover: state.id,
    steps: outcome.steps,
    error: failedAt('clone', outcome.failed, `${hint} Fix the cause, then run \`bluegreen clone\` again (green is re-created).`),
  };
}

export async function _clone(deps: Deps, options: CloneOptions = {}): Promise<CloneResult> {
  const { config } = deps;
  const previous = await loadState(deps);
  const at = () => deps.clock.now().toISOString();
  const draft = advance(newCutover(newCutoverId(deps.clock.now()), config.mode, at(), deps.who), 'clone-started', at(), deps.who);
  advance({ ...previous, mode: config.mode }, 'clone-started', at(), deps.who); // throws if the current cutover forbids a new clone
  const resetGreen = greenResettable(previous, options.acceptDataLoss);
  if (options.dryRun) return dryRun(deps, draft, options, resetGreen);
  // Preflight first: it only reads, and an unreachable blue or a wrong password is a finding (exit 3), not a crash at the lock.
  const facts = await gatherFacts(deps, previous, options.acceptDataLoss);
  assertFactsNotBlocked(facts);
  return controlled(deps, 'clone', async () => {
    if (options.acceptDataLoss) await recordGreenReCreated(deps, previous);
    // A failed clone whose slot could not be dropped left its names: drop them before the record is replaced.
    const leftover = previous.phase === 'aborted' ? await dropForwardLink(deps, previous.forward) : { left: false, note: '' };
    if (leftover.left)
      throw new BlueGreenError(`the previous cutover's replication objects could not be dropped:${leftover.note}`, {
        hint: 'Make blue and green reachable, then run `bluegreen abort` or `bluegreen clone` again.',
      });
    // The privilege plan is kept: status and the switchover read what the rollback can promise from it.
    let state: CutoverState = { ...draft, greenDatabaseCreated: resetGreen, privileges: facts.privileges?.plan };
    await deps.store.save(state);
    const record = {
      state: () => state,
      update: async (changes: Partial<CutoverState>) => {
        state = { ...state, ...changes, updatedAt: at() };
        await deps.store.save(state);
      },
      save: async (next: CutoverState) => {
        state = next;
        await deps.store.save(state);
      },
    };
    return runClone(deps, cloneContext(deps, record, { jobs: options.jobs, resetGreen }), record);
  });
}
