/**
 * A flip past RESUME: traffic is on the new side. The steps after it (the old direction retired, the other
 * side subscribed) run on their own (they cannot undo the flip), then the cutover's record, the schema
 * baseline, the audit of what was given up, and the report. Also what a flip reports and records, read
 * from its steps' declared outputs.
 */
import type { Report, StepResult } from '../core/report.js';
import { advance, type CutoverState, type FlipRecord, type ReplicationLink, type Side } from '../core/state.js';
import type { TableChanges } from '../adapters/change-counter.js';
import type { Deps } from './context.js';
import { type JournalStep, type OperationsOptions, type Outputs, type Planned, runOperations } from '../operations/operation.js';
import type { FlipContext } from '../operations/flip/context.js';
import { currentLink, preparesReverse } from '../operations/flip/context.js';
import { acceptedLossesOf, lostWritesOf } from '../operations/flip/plan.js';
import { openGoing } from '../operations/flip/open-going.js';
import { resumeTraffic } from '../operations/flip/resume-traffic.js';
import { syncSchema } from '../operations/flip/sync-schema.js';
import { recordBaseline } from './sync-schema.js';
import type { BlueGreenError } from '../core/errors.js';

export interface FlipResult extends Report {
  readonly writePauseMs?: number;
  /** A PgBouncer fleet: each instance's own pause (PAUSE → RESUME on it). */
  readonly pausesMs?: ReadonlyArray<{ readonly instance: string; readonly ms: number }>;
  /** Freeze mode: how long application writes were refused in all (from the clone's freeze to green opening). */
  readonly writesFrozenMs?: number;
  readonly serving: Side;
}

export type LostWrites = TableChanges;

/** A flip under way: its context, the steps after RESUME, what its steps declared so far, and its journal. */
export interface FlipRun {
  readonly ctx: FlipContext;
  readonly after: ReadonlyArray<Planned<FlipContext>>;
  readonly outputs: Outputs<FlipContext>;
  /** What the steps up to RESUME recorded: the head of the journal the steps after it continue. */
  readonly recorded: ReadonlyArray<JournalStep>;
  readonly journal: NonNullable<OperationsOptions['journal']>;
  readonly at: () => string;
}

/** How long clients were held: RESUME's declared output, or (the flip undone, or stopped at RESUME) this process's reading. */
export function pauseMsOf(run: FlipRun): number | undefined {
  return run.outputs.of(resumeTraffic)?.pauseMs ?? run.ctx.live.pauseMs;
}

/** The flip as the cutover's history keeps it. */
export function flipRecord(run: FlipRun, ok: boolean, steps: StepResult[], error?: string): FlipRecord {
  const losses = acceptedLossesOf(run.outputs);
  return {
    kind: run.ctx.flip.direction,
    at: run.at(),
    by: run.ctx.deps.who,
    ok,
    writePauseMs: pauseMsOf(run),
    steps,
    error,
    ...(ok && losses ? { acceptedLosses: losses } : {}),
  };
}

/** The state once traffic is on the new side: serving, replication links, the window, what is left unfinished. */
function finishedState(run: FlipRun, steps: StepResult[], now: string, lastError: string | undefined, unfinished: boolean): CutoverState {
  const { deps, flip, state, next } = run.ctx;
  const { config } = deps;
  const xid = flip.direction === 'switchover' ? run.outputs.of(openGoing)?.xid : undefined;
  return advance(state, flip.direction === 'switchover' ? 'switchover-finished' : 'rollback-finished', now, deps.who, {
    serving: flip.to,
    blueFrozen: flip.to === 'green',
    flips: [...state.flips, flipRecord(run, true, steps)],
    lastError,
    unfinishedFlip: unfinished ? { direction: flip.direction, retiring: currentLink(run.ctx) } : undefined,
    ...landed(config, state, flip.direction, next, now, xid),
  });
}

/**
 * What a flip that landed changes in the record, whoever finishes it (the flip, or `resume`): the links
 * (no reverse one where the switchover gave it up), green's transaction id at the switchover (freeze mode's
 * rollback counts green's changes from it), and the window.
 */
export function landed(
  config: Deps['config'],
  state: CutoverState,
  direction: 'switchover' | 'rollback',
  next: ReplicationLink,
  now: string,
  xid: string | undefined,
): Partial<CutoverState> {
  return {
    ...(xid ? { greenXidAtSwitchover: xid } : {}),
    ...(config.mode === 'replicate'
      ? direction === 'switchover'
        ? { forward: undefined, reverse: state.privileges?.rollbackLossless === false ? undefined : next }
        : { forward: next, reverse: undefined }
      : {}),
    ...(direction === 'switchover'
      ? { switchedOverAt: now, rollbackWindowEndsAt: new Date(Date.parse(now) + config.rollbackWindowMs).toISOString() }
      : {}),
  };
}

/** Freeze mode's switchover: how long application writes were refused in all (from the clone's freeze to green opening). */
function writesFrozenMs(run: FlipRun, now: string): number | undefined {
  const { deps, flip, state } = run.ctx;
  const lastClone = state.history.filter((h) => h.event === 'clone-started').at(-1);
  if (deps.config.mode === 'replicate' || flip.direction !== 'switchover' || !lastClone) return undefined;
  return Date.parse(now) - Date.parse(lastClone.at);
}

/** The record, the new side's schema baseline, the audit of what was given up. */
async function recordFinished(run: FlipRun, steps: StepResult[], now: string, lastError: string | undefined, unfinished: boolean) {
  const { deps, flip } = run.ctx;
  const state = finishedState(run, steps, now, lastError, unfinished);
  await deps.store.save(state);
  const schema = run.outputs.of(syncSchema)?.toSchemaAtFlip;
  if (schema) recordBaseline(deps.config.stateDir, state.id, flip.to, schema);
  const losses = acceptedLossesOf(run.outputs);
  if (losses) {
    await deps.store.audit({
      at: now,
      by: deps.who,
      command: flip.direction,
      cutover: state.id,
      outcome: 'data-loss-accepted',
      detail: losses.map((l) => `${l.object}: ${l.what}`).join('; '),
    });
  }
}

/**
 * Past RESUME: the steps after it, the record, the report. `stoppedNote` when this finishes a flip forward
 * after a failure (an undo that could not bring traffic back).
 */
export async function finishForward(
  run: FlipRun,
  mainSteps: StepResult[],
  stoppedNote?: string,
): Promise<FlipResult & { lostWrites?: LostWrites[] }> {
  const { deps, flip } = run.ctx;
  const { config, progress } = deps;
  // Past RESUME traffic is on the new side: these steps cannot undo the flip; they are run, and reported, on their own.
  const journal = { ...run.journal, earlier: run.recorded };
  const post = await runOperations(run.after, run.ctx, { progress, secrets: config.secrets, undoOnFailure: false, journal }, run.outputs);
  const steps = [...mainSteps, ...post.steps];
  const now = run.at();
  await recordFinished(run, steps, now, stoppedNote ?? post.failed?.error.message, !!post.failed);
  const base = { steps, writePauseMs: pauseMsOf(run), pausesMs: run.outputs.of(resumeTraffic)?.pausesMs, serving: flip.to };
  if (stoppedNote) {
    return {
      ...base,
      ok: false,
      error: {
        code: 'finished-forward',
        exitCode: 1,
        message: stoppedNote,
        hint:
          `${flip.to} serves and takes writes. \`bluegreen status\` shows replication ${flip.to} → ${flip.from}; ` +
          'check what the failed step names.',
      },
    };
  }
  if (post.failed) return { ...base, ok: false, error: failedAfterResume(run, post.failed) };
  return { ...base, ok: true, writesFrozenMs: writesFrozenMs(run, now), lostWrites: lostWritesOf(run.outputs) as LostWrites[] | undefined };
}

function failedAfterResume(run: FlipRun, failed: { readonly step: string; readonly error: BlueGreenError }): FlipResult['error'] {
  const { flip } = run.ctx;
  const err = failed.error;
  return {
    code: err.code,
    message: `${flip.direction} done, ${flip.to} serves; but ${failed.step} failed: ${err.message}`,
    // Only a prepared reverse direction has a slot keeping the new side's writes for the old one.
    hint: preparesReverse(run.ctx)
      ? `Nothing is lost: ${flip.to} takes the writes and its slot keeps them for ${flip.from}. ` +
        'Fix the cause, then run `bluegreen resume`: it finishes these steps. ' +
        `Until replication ${flip.to} → ${flip.from} runs, a rollback is refused.`
      : `${flip.to} takes the writes. Fix the cause, then run \`bluegreen resume\`: it finishes these steps.`,
  };
}
