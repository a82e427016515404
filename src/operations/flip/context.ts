/**
 * What every step of the flip is given: the command's dependencies, the direction, the cutover's record
 * as the flip began, the sessions opened before anything is paused, and the few live things that are
 * not data (the budget's clock, the heartbeat's listener, the pause's start on this process's clock).
 * What a step learns for a later one is its declared output, recorded in the run's journal, not here.
 */
import type { BlockerAction } from '../../core/blockers.js';
import type { CutoverState, ReplicationLink, Side } from '../../core/state.js';
import type { Client } from '../../adapters/pg.js';
import type { watchHeartbeat } from '../../adapters/heartbeat.js';
import type { Deps } from '../../commands/context.js';
import type { Operation } from '../operation.js';

export interface FlipDirection {
  readonly direction: 'switchover' | 'rollback';
  readonly from: Side;
  readonly to: Side;
}

export interface FlipSessions {
  readonly from: Client;
  readonly to: Client;
  /** More sessions on the side we go to, so steps inside the pause can run at once. */
  readonly toSlot: Client;
  readonly toOpen: Client;
  readonly toSequences: Client;
  /** A session on the side we leave for its sequence read inside the pause, beside the drain. */
  readonly fromSequences: Client;
}

/**
 * Live things a step hands to a later one that cannot be journaled: a listener on a session, and a
 * reading of `performance.now()` (this process's clock, meaningless to the next controller).
 */
export interface FlipLive {
  /** The subscriber's heartbeat channel, listened to before the pause (the drain closes it). */
  heartbeat?: Awaited<ReturnType<typeof watchHeartbeat>>;
  /** When PAUSE was sent: the pause's length, when the flip is undone, runs from here. */
  pauseStart?: number;
  /** How long clients were held, once RESUME (the flip's or the undo's) ended the pause. */
  pauseMs?: number;
}

export interface FlipContext {
  readonly deps: Deps;
  readonly flip: FlipDirection;
  readonly state: CutoverState;
  readonly sessions: FlipSessions;
  /** The new direction's objects (publication, slot, subscription). */
  readonly next: ReplicationLink;
  readonly acceptDataLoss: boolean;
  /** `--blockers`: what to do with sessions that would hold the pause (default: the config's). */
  readonly blockers?: BlockerAction;
  /** Called when the guardrails start: the budget runs from there. */
  readonly startBudget: () => void;
  /** What is left of the budget, for waits that must end with it. */
  readonly deadline: () => number;
  readonly live: FlipLive;
}

/** A step of the flip. */
export type FlipOperation<In, Out> = Operation<FlipContext, In, Out>;

/** Whether the flip replicates (replicate mode) rather than copying nothing back (freeze mode). */
export function replicates(ctx: Pick<FlipContext, 'deps'>): boolean {
  return ctx.deps.config.mode === 'replicate';
}

/** The direction the flip retires: blue → green for a switchover, green → blue for a rollback. */
export function currentLink(ctx: Pick<FlipContext, 'flip' | 'state'>): ReplicationLink | undefined {
  return ctx.flip.direction === 'switchover' ? ctx.state.forward : ctx.state.reverse;
}

/**
 * Whether the flip prepares the new direction back (replicate mode). Without a superuser a 15 blue
 * cannot subscribe: preflight declared the rollback lossy and the switchover was accepted so
 * (--accept-data-loss); no reverse direction is prepared that could never be subscribed.
 */
export function preparesReverse(ctx: Pick<FlipContext, 'deps' | 'flip' | 'state'>): boolean {
  return replicates(ctx) && !(ctx.flip.direction === 'switchover' && ctx.state.privileges?.rollbackLossless === false);
}
