/**
 * The phases of one cutover, the events that move it, and the single pure `next` function.
 * Both modes share the table; where they differ, the row says so.
 */
import { TransitionNotAllowedError } from './errors.js';

export type Mode = 'freeze' | 'replicate';

export type Phase =
  | 'idle' // no cutover yet
  | 'cloning'
  | 'ready' // green is a full copy (frozen blue in freeze mode, in sync in replicate mode)
  | 'migrating'
  | 'switching-over'
  | 'switched-over' // green serves; blue kept for the rollback window
  | 'rolling-back'
  | 'rolled-back' // blue serves again
  | 'finalizing'
  | 'finalized' // window closed, blue retired
  | 'aborted'; // cutover abandoned, blue serves and takes writes

export type PhaseEvent =
  | 'clone-started'
  | 'clone-finished'
  | 'clone-failed'
  | 'migrate-started'
  | 'migrate-finished'
  | 'switchover-started'
  | 'switchover-finished'
  | 'switchover-aborted'
  | 'rollback-started'
  | 'rollback-finished'
  | 'rollback-aborted'
  | 'finalize-started'
  | 'finalize-finished'
  | 'abort';

/** Every phase, in the order a cutover goes through them. */
export const PHASES: ReadonlyArray<Phase> = [
  'idle',
  'cloning',
  'ready',
  'migrating',
  'switching-over',
  'switched-over',
  'rolling-back',
  'rolled-back',
  'finalizing',
  'finalized',
  'aborted',
];

/** The phases a controller is in the middle of: finding one of these with no lock held means it was killed. */
export const IN_PROGRESS: ReadonlySet<Phase> = new Set(['cloning', 'migrating', 'switching-over', 'rolling-back', 'finalizing']);

type Row = Readonly<Partial<Record<PhaseEvent, Phase | ((mode: Mode) => Phase | undefined)>>>;

/** Ended cutovers a new clone may start from (blue serves in each, or the old cutover is closed). */
const NEW_CUTOVER: Row = { 'clone-started': 'cloning' };

const TRANSITIONS: Readonly<Record<Phase, Row>> = {
  idle: NEW_CUTOVER,
  cloning: { 'clone-finished': 'ready', 'clone-failed': 'aborted', abort: 'aborted' },
  ready: { 'migrate-started': 'migrating', 'switchover-started': 'switching-over', abort: 'aborted' },
  migrating: { 'migrate-finished': 'ready', abort: 'aborted' },
  'switching-over': { 'switchover-finished': 'switched-over', 'switchover-aborted': 'ready', abort: 'aborted' },
  'switched-over': { 'rollback-started': 'rolling-back', 'finalize-started': 'finalizing' },
  'rolling-back': { 'rollback-finished': 'rolled-back', 'rollback-aborted': 'switched-over' },
  // After a rollback in replicate mode blue is kept in sync with green both ways, so the same green
  // can be switched to again; in freeze mode green missed blue's new writes and must be cloned anew.
  'rolled-back': {
    ...NEW_CUTOVER,
    'switchover-started': (mode) => (mode === 'replicate' ? 'switching-over' : undefined),
    'finalize-started': 'finalizing',
  },
  finalizing: { 'finalize-started': 'finalizing', 'finalize-finished': 'finalized' },
  finalized: NEW_CUTOVER,
  // Abort again: cleanup a failed clone could not finish (a slot on a blue that was down) is still abort's to do.
  aborted: { ...NEW_CUTOVER, abort: 'aborted' },
};

/** What each event is called in a message, in the command an operator types. */
const COMMAND_OF: Readonly<Record<PhaseEvent, string>> = {
  'clone-started': 'clone',
  'clone-finished': 'clone',
  'clone-failed': 'clone',
  'migrate-started': 'migrate',
  'migrate-finished': 'migrate',
  'switchover-started': 'switchover',
  'switchover-finished': 'switchover',
  'switchover-aborted': 'switchover',
  'rollback-started': 'rollback',
  'rollback-finished': 'rollback',
  'rollback-aborted': 'rollback',
  'finalize-started': 'finalize',
  'finalize-finished': 'finalize',
  abort: 'abort',
};

const ADVICE: Readonly<Record<Phase, string>> = {
  idle: 'Start with `bluegreen preflight`, then `bluegreen clone`.',
  cloning: 'A clone was interrupted: run `bluegreen resume` (it aborts cleanly), then clone again.',
  ready: 'Green is ready: `bluegreen migrate`, `bluegreen compare`, then `bluegreen switchover`.',
  migrating: 'A migration run was interrupted: run `bluegreen resume`, then `bluegreen migrate` again.',
  'switching-over': 'A switchover was interrupted: run `bluegreen resume` (it finishes or undoes it).',
  'switched-over': 'Green serves. `bluegreen rollback` within the window, or `bluegreen finalize` after it.',
  'rolling-back': 'A rollback was interrupted: run `bluegreen resume` (it finishes or undoes it).',
  'rolled-back':
    'Blue serves again. In replicate mode green still follows blue: `bluegreen switchover` once the cause is fixed ' +
    '(or `bluegreen finalize` to end the cutover on blue); in freeze mode start a new cutover with `bluegreen clone`.',
  finalizing: 'A finalize was interrupted: run `bluegreen resume`.',
  finalized: 'This cutover is finished. Point the config at the new blue before the next one.',
  aborted: 'The cutover was aborted and blue serves. Start again with `bluegreen clone`.',
};

/** Where `event` takes a cutover in `phase`, or undefined when it is not allowed. */
export function transition(phase: Phase, event: PhaseEvent, mode: Mode): Phase | undefined {
  const target = TRANSITIONS[phase][event];
  return typeof target === 'function' ? target(mode) : target;
}

/** Like `transition`, but throws an error that says what the operator can do instead. */
export function next(phase: Phase, event: PhaseEvent, mode: Mode): Phase {
  const target = transition(phase, event, mode);
  if (target === undefined) {
    throw new TransitionNotAllowedError(`cannot ${COMMAND_OF[event]} while the cutover is ${phase}`, {
      hint: ADVICE[phase],
    });
  }
  return target;
}

/** The advice `status` prints under the phase. */
export function adviceFor(phase: Phase): string {
  return ADVICE[phase];
}
