/**
 * `bluegreen finalize` as a runbook: retire the side traffic left, drop our replication, clean the
 * serving side. No step has an undo: the rollback is what finalize gives up, so a failure stops and
 * `bluegreen finalize` (or `resume`) finishes forward; every step is safe to repeat.
 */
import type { CutoverState } from '../../core/state.js';
import { fileJournal } from '../../adapters/run-journal.js';
import { type Planned, step } from '../operation.js';
import { cleanServing } from './clean-serving.js';
import type { FinalizeCtx } from './context.js';
import { dropReplication } from './drop-replication.js';
import { type RetiredSide, retireSide } from './retire-side.js';

export const finalizePlan: ReadonlyArray<Planned<FinalizeCtx>> = [
  step(retireSide),
  step(dropReplication, (o) => o.need(retireSide)),
  step(cleanServing),
];

/**
 * The sides `resume` drops replication on after a finalize was killed: from the run's journal, only the
 * serving side when the retired one did not answer (as finalize itself did); both when nothing says so.
 */
export function sidesToClean(stateDir: string, state: CutoverState): ReadonlyArray<'blue' | 'green'> | undefined {
  const retired = state.serving === 'green' ? 'blue' : 'green';
  const record = fileJournal(stateDir, state.id, 'finalize').read();
  const output = record?.steps.find((s) => s.name === `retire-${retired}`)?.output as RetiredSide | undefined;
  return output?.gone ? [state.serving] : undefined;
}
