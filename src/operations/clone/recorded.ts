/**
 * The clone's undo from its journal, for `abort` and `resume` after a controller that is gone: what the
 * journal says the clone made for replication is dropped by the names it recorded, each by its own
 * step's undo. (Blue's freeze is theirs to open whatever froze it: a clone, or an interrupted flip.)
 */
import { fileJournal } from '../../adapters/run-journal.js';
import type { CutoverState } from '../../core/state.js';
import { withClient } from '../../adapters/pg.js';
import { unfreezeWrites } from '../../adapters/write-guard.js';
import { dropAllReplication } from '../../commands/cleanup.js';
import { conn, type Deps } from '../../commands/context.js';
import type { Step } from '../runner.js';
import { freezeBlue } from './freeze-blue.js';
import { type Planned, type RunRecord, undoRecorded } from '../operation.js';
import { cloneContext, type CloneCtx } from './context.js';
import { clonePlan, replicationMade } from './plan.js';

export type Side = 'blue' | 'green';

/** The clone's journal for this cutover, when a clone of it ran. */
export function cloneJournal(deps: Pick<Deps, 'config'>, state: Pick<CutoverState, 'id'>): RunRecord | undefined {
  return fileJournal(deps.config.stateDir, state.id, 'clone').read();
}

/** The clone's plan as far as its undo needs it, on a context made from the record alone. */
export function recordedContext(deps: Deps, state: CutoverState): CloneCtx {
  let current = state;
  const record = {
    state: () => current,
    update: async (changes: Partial<CutoverState>) => {
      current = { ...current, ...changes, updatedAt: deps.clock.now().toISOString() };
      await deps.store.save(current);
    },
  };
  return cloneContext(deps, record);
}

/**
 * Undoes, in reverse and with the outputs the journal recorded, those of the clone's steps given that
 * started. Returns false when there is no journal (no clone of this cutover ran with one); throws the
 * first failure.
 */
export async function undoRecordedClone(deps: Deps, state: CutoverState, ops: ReadonlyArray<unknown>): Promise<boolean> {
  const record = cloneJournal(deps, state);
  if (!record) return false;
  await undoFromJournal(recordedContext(deps, state), record, ops);
  return true;
}

/** The undo of those of the clone's steps given that the journal says started, with the outputs it recorded, in reverse. */
export async function undoFromJournal(ctx: CloneCtx, record: RunRecord, ops: ReadonlyArray<unknown>): Promise<void> {
  const plan: Planned<CloneCtx>[] = clonePlan(ctx).filter((p) => ops.includes(p.op));
  const undone = await undoRecorded(plan, ctx, record, ctx.deps.config.secrets);
  if (undone.errors.length) throw undone.errors[0].error;
}

/** The clone's replication objects on the given sides (both by default), dropped by the names its journal recorded. */
export function undoRecordedReplication(deps: Deps, state: CutoverState, sides: ReadonlyArray<Side> = ['blue', 'green']): Promise<boolean> {
  return undoRecordedClone(
    deps,
    state,
    sides.flatMap((side): ReadonlyArray<unknown> => replicationMade[side]),
  );
}

/**
 * `resume` after a clone's controller died: the clone's undo from its journal (blue unfrozen if the clone
 * may have frozen it, its replication objects dropped by their recorded names), PgBouncer resumed, and
 * whatever else of ours is found by name (a slot made before the journal could say so). Without a
 * journal, blue is unfrozen (it is safe to repeat) and the objects are found by name.
 */
export function interruptedCloneSteps(deps: Deps, state: CutoverState, resumePgbouncer: Step): Step[] {
  const unfreeze = () => withClient(deps.config.blue, unfreezeWrites, conn(deps, 'blue', 'resume'));
  return [
    {
      name: 'open-blue',
      title: 'Opening blue for writes',
      run: async () => {
        if (!(await undoRecordedClone(deps, state, [freezeBlue]))) await unfreeze();
      },
    },
    resumePgbouncer,
    {
      name: 'drop-replication',
      title: 'Dropping the half-made replication objects',
      run: async () => {
        await undoRecordedReplication(deps, state);
        await dropAllReplication(deps);
      },
    },
  ];
}
