/** The durable record of one cutover: what phase it is in, who did what, and what was measured. */
import { type Mode, type Phase, type PhaseEvent, next } from './phases.js';
import type { PrivilegePlan } from './privileges.js';
import type { StepResult } from './report.js';
import type { GuardDecision } from './guard.js';

export type Side = 'blue' | 'green';

export interface FlipRecord {
  readonly kind: 'switchover' | 'rollback';
  readonly at: string;
  readonly by: string;
  readonly ok: boolean;
  readonly writePauseMs?: number;
  readonly steps: ReadonlyArray<StepResult>;
  readonly error?: string;
  /** What the operator gave up with --accept-data-loss for this flip. */
  readonly acceptedLosses?: ReadonlyArray<{ readonly object: string; readonly what: string }>;
}

/** Names of one direction's replication objects: publication and slot on the publisher, subscription on the subscriber. */
export interface ReplicationLink {
  readonly publication: string;
  readonly slot: string;
  readonly subscription: string;
}

export interface CutoverState {
  readonly id: string;
  readonly mode: Mode;
  readonly phase: Phase;
  /** Where the pointer sends traffic, as last set by us (status also reads the pointer itself). */
  readonly serving: Side;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly updatedAt: string;
  /** Blue refuses application writes (freeze mode from clone; both modes during the rollback window). */
  readonly blueFrozen: boolean;
  /** We created green's database, so a later cutover may drop and re-create it while blue serves. */
  readonly greenDatabaseCreated: boolean;
  readonly dump?: { readonly path: string; readonly format: string; readonly bytes: number; readonly tocEntries: number };
  /** Versions the built-in runner applied to green in this cutover (the ones `migrate --down` may revert). */
  readonly migrationsApplied: ReadonlyArray<string>;
  readonly switchedOverAt?: string;
  readonly rollbackWindowEndsAt?: string;
  /** Green's transaction id when it opened for writes: rows with a newer xmin were written on green since. */
  readonly greenXidAtSwitchover?: string;
  /** Replicate mode: blue → green before the switchover (and after a rollback), green → blue after it. */
  readonly forward?: ReplicationLink;
  readonly reverse?: ReplicationLink;
  readonly flips: ReadonlyArray<FlipRecord>;
  readonly history: ReadonlyArray<{ readonly at: string; readonly event: PhaseEvent; readonly phase: Phase; readonly by: string }>;
  readonly lastError?: string;
  /** What the configured roles may do and the strategy per capability, as the clone's preflight found it. */
  readonly privileges?: PrivilegePlan;
  /**
   * A side given up for lost (green unreachable at an emergency rollback): when it answers again it is
   * fenced (frozen, our replication objects on it dropped) and never takes traffic or replicates.
   */
  readonly lost?: { readonly side: Side; readonly at: string; readonly why: string; readonly fencedAt?: string };
  /**
   * A flip done (traffic on the new side) whose steps after RESUME did not all finish: the old
   * direction to retire and the new one to subscribe. `resume` finishes them.
   */
  readonly unfinishedFlip?: { readonly direction: 'switchover' | 'rollback'; readonly retiring?: ReplicationLink };
  /**
   * A re-seed of blue under way or cut short: from `emptiedAt` blue's copies are incomplete until table
   * sync has copied them whole again, so nothing may put traffic on blue; `bluegreen reseed` starts over.
   */
  readonly reseeding?: { readonly startedAt: string; readonly emptiedAt?: string };
}

export interface AuditEntry {
  readonly at: string;
  readonly by: string;
  readonly command: string;
  readonly cutover?: string;
  readonly outcome:
    'started' | 'ok' | 'failed' | 'blocked' | 'dry-run' | 'data-loss-accepted' | 'query-cancelled' | 'session-ended' | GuardDecision;
  readonly detail?: string;
}

export function newCutover(id: string, mode: Mode, at: string, by: string): CutoverState {
  return {
    id,
    mode,
    phase: 'idle',
    serving: 'blue',
    createdAt: at,
    createdBy: by,
    updatedAt: at,
    blueFrozen: false,
    greenDatabaseCreated: false,
    migrationsApplied: [],
    flips: [],
    history: [],
  };
}

/** Moves a record by one event (throws if the phase does not allow it) and notes it in the history. */
export function advance(state: CutoverState, event: PhaseEvent, at: string, by: string, changes: Partial<CutoverState> = {}): CutoverState {
  const phase = next(state.phase, event, state.mode);
  return { ...state, ...changes, phase, updatedAt: at, history: [...state.history, { at, event, phase, by }] };
}

/** Milliseconds left in the rollback window (negative once it has closed), or undefined before a switchover. */
export function windowLeftMs(state: CutoverState, nowMs: number): number | undefined {
  return state.rollbackWindowEndsAt ? Date.parse(state.rollbackWindowEndsAt) - nowMs : undefined;
}
