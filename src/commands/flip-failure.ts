/**
 * A flip that failed. Before RESUME the runner undid every step that started, in reverse; when one of those
 * undos failed, where the pointer sends traffic now decides the way (finish forward, redo the undo on new
 * sessions, or freeze the side we were going to again). Past RESUME nothing is undone: the flip stops and
 * says what the operator must decide, and `resume` finishes it from what is true.
 */
import type { StepResult } from '../core/report.js';
import { advance } from '../core/state.js';
import { sideServedBy } from '../adapters/pointer.js';
import { failedUndos, type PlanOutcome, undoSteps } from '../operations/runner.js';
import { nameOf } from '../operations/operation.js';
import { undoOnNewSessions } from './flip-sessions.js';
import { finishForward, flipRecord, type FlipResult, type FlipRun, type LostWrites, pauseMsOf } from './flip-finish.js';
import { lostWritesOf } from '../operations/flip/plan.js';
import { ChangesRefusedError } from '../operations/flip/green-changes.js';
import { LostSlotError } from './flip-faults.js';
import { lostSlotHint } from '../core/lost-slot.js';

type Failed = PlanOutcome & { readonly failed: NonNullable<PlanOutcome['failed']> };

/** An undo failed and the chain stopped there: where the pointer sends traffic now decides the way. */
async function recoverFailedUndo(
  run: FlipRun,
  outcome: Failed,
): Promise<{ undone: string[]; recovered: boolean } | { finished: FlipResult & { lostWrites?: LostWrites[] } }> {
  const { deps, flip } = run.ctx;
  const { config, pointer } = deps;
  const err = outcome.failed.error;
  let undone = outcome.undone;
  let recovered = false;
  const where = await pointer.current().then(
    (t) => sideServedBy(config, t),
    () => undefined,
  );
  if (where === flip.to) {
    if (pointer.canPause) await pointer.resume().catch(() => undefined);
    const note =
      `${flip.direction} failed at ${outcome.failed.step} (${err.message.split('\n')[0]}) and the undo could not bring traffic back ` +
      `(${failedUndos(undone).join('; ')}): the pointer sends it to ${flip.to}, which was ready, ` +
      `so the ${flip.direction} was finished forward instead of undone.`;
    return { finished: await finishForward(run, outcome.steps, note) };
  }
  if (where === flip.from) {
    // The pointer is on the side we were leaving: the failed undo is tried once more, then the rest, on new
    // sessions (a side that crashed and restarted, or a cut network, leaves the flip's own sessions dead).
    const left = [...(outcome.undoFailed ? [outcome.undoFailed] : []), ...(outcome.notUndone ?? [])].map((st) => st.name);
    const again = await undoOnNewSessions(run.ctx, run.outputs, left);
    undone = [...undone, ...again.map((l) => `retried: ${l}`)];
    recovered = !failedUndos(again).length;
  } else {
    // The pointer cannot be read (or the instances disagree): the side we were going to is frozen
    // again before anyone is let through, so no client can write on both sides.
    const reopened = outcome.notUndone?.find((st) => st.name === `open-${flip.to}`);
    if (reopened) undone = [...undone, ...(await undoSteps([reopened], config.secrets)).lines];
  }
  // Never leave clients paused, whatever else failed.
  if (pointer.canPause) await pointer.resume().catch(() => undefined);
  return { undone, recovered };
}

/** The flip's report and record after a failure of its steps up to RESUME. */
export async function flipFailed(run: FlipRun, outcome: Failed): Promise<FlipResult & { lostWrites?: LostWrites[] }> {
  let undone = outcome.undone;
  let recovered = false;
  if (!outcome.pastNoReturn && failedUndos(undone).length) {
    const recovery = await recoverFailedUndo(run, outcome);
    if ('finished' in recovery) return recovery.finished;
    ({ undone, recovered } = recovery);
  }
  const notReached = run.after.map((p): StepResult => ({ name: nameOf(p.op, run.ctx), status: 'skipped', ms: 0, detail: 'not reached' }));
  const steps = [...outcome.steps, ...notReached];
  if (outcome.pastNoReturn || (failedUndos(undone).length && !recovered)) return stopped(run, outcome, steps, undone);
  return aborted(run, outcome, steps, undone, recovered);
}

/** Not undone, or not wholly: the record stays in the flip's phase, for `resume` to finish or undo from what is true. */
async function stopped(run: FlipRun, outcome: Failed, steps: StepResult[], undone: string[]): Promise<FlipResult> {
  const { deps, flip, state } = run.ctx;
  const err = outcome.failed.error;
  const brokenUndos = failedUndos(undone);
  await deps.store.save({ ...state, flips: [...state.flips, flipRecord(run, false, outcome.steps, err.message)], lastError: err.message });
  if (outcome.pastNoReturn && deps.pointer.canPause) await deps.pointer.resume().catch(() => undefined);
  const database = deps.config.pointer.type === 'pgbouncer' ? deps.config.pointer.database : '<db>';
  return {
    ok: false,
    steps,
    writePauseMs: pauseMsOf(run),
    serving: outcome.pastNoReturn ? flip.to : flip.from,
    error: outcome.pastNoReturn
      ? {
          code: err.code,
          exitCode: 1,
          message:
            `${flip.direction} stopped after ${outcome.failed.step} began: ${err.message}\n  Traffic may already be on ${flip.to} ` +
            '(PgBouncer let clients through on some or all instances), so nothing was undone: ' +
            'undoing now could throw away writes made there.',
          hint:
            `Run \`bluegreen resume\`: with the pointer on ${flip.to} it finishes the ${flip.direction} ` +
            '(the drain, the sequences and the new slot were done before the pause ended). ' +
            `If it cannot, check each PgBouncer (SHOW DATABASES; RESUME ${database}) and decide which side serves; ` +
            '`bluegreen status` shows what the pointer says now.',
        }
      : {
          code: err.code,
          exitCode: 1,
          message:
            `${flip.direction} failed at ${outcome.failed.step} and ${brokenUndos.length} of its undo steps FAILED:\n` +
            `  ${brokenUndos.join('\n  ')}\n` +
            `  (the failure: ${err.message.split('\n')[0]}; the undo: ${undone.join('; ')})`,
          hint:
            'What serves and whether writes are frozen is not known to be as before. Run `bluegreen resume`: it finishes or undoes the ' +
            `${flip.direction} from what is true now and is safe to repeat; \`bluegreen status\` shows where the pointer sends traffic.`,
        },
  };
}

/** Undone (every undo done, or the pointer on the side we leave): the flip is aborted and the side we leave serves. */
async function aborted(
  run: FlipRun,
  outcome: Failed,
  steps: StepResult[],
  undone: string[],
  recovered: boolean,
): Promise<FlipResult & { lostWrites?: LostWrites[] }> {
  const { deps, flip, state } = run.ctx;
  const replicate = deps.config.mode === 'replicate';
  const err = outcome.failed.error;
  const brokenUndos = failedUndos(undone);
  const saved = advance(state, flip.direction === 'switchover' ? 'switchover-aborted' : 'rollback-aborted', run.at(), deps.who, {
    flips: [...state.flips, flipRecord(run, false, outcome.steps, err.message)],
    lastError: err.message,
  });
  await deps.store.save(saved);
  const current = flip.direction === 'switchover' ? saved.forward : saved.reverse;
  // A lost slot: replication does not keep running and a retry meets the same refusal; say the way out instead.
  const slotLost = err instanceof LostSlotError;
  const stillSynced = replicate && current && !slotLost ? ` Replication ${flip.from} → ${flip.to} keeps running.` : '';
  const what = recovered
    ? `${flip.direction} aborted at ${outcome.failed.step}, and its undo was redone on new sessions ` +
      `(${brokenUndos.length} undo step${brokenUndos.length > 1 ? 's' : ''} failed on the flip's own: ` +
      'a side restarted or a connection was cut); every undo is now done'
    : `${flip.direction} aborted at ${outcome.failed.step}`;
  const frozen = !replicate && flip.from === 'blue' ? ' (read-only, as since the clone)' : '';
  // Reached only when every undo is done (a failed one not redone goes to `stopped`).
  const lost = '; nothing was lost';
  const retry = slotLost
    ? lostSlotHint(flip)
    : flip.direction === 'switchover'
      ? `Retry \`bluegreen switchover\`${replicate ? '' : ', or `bluegreen abort` to reopen blue for writes'}.`
      : 'Retry `bluegreen rollback`.';
  return {
    ok: false,
    steps,
    writePauseMs: pauseMsOf(run),
    serving: flip.from,
    lostWrites: (err instanceof ChangesRefusedError ? err.lostWrites : lostWritesOf(run.outputs)) as LostWrites[] | undefined,
    error: {
      code: err.code,
      exitCode: err.exitCode,
      message: `${what}: ${err.message}\n  undo: ${undone.length ? undone.join('; ') : 'nothing to undo'}`,
      hint: `${err.hint ? `${err.hint} ` : ''}${flip.from} still serves${frozen}${lost}.${stillSynced} ${retry}`,
    },
  };
}
