/** `bluegreen status`: the phase, what really serves (read from the pointer), the window, the last flips. */
import type { PrivilegePlan } from '../core/privileges.js';
import type { Blocker } from '../core/blockers.js';
import { pauseBlockers } from '../adapters/sessions.js';
import { fenceLostSide } from './rollback-without-green.js';
import { unfinishedReseedRefusal } from '../core/reseed.js';
import { lostSlotAdvice } from '../core/lost-slot.js';
import type { PoolMode } from '../adapters/pointer.js';
import { adviceFor, type Phase } from '../core/phases.js';
import { type CutoverState, type FlipRecord, type ReplicationLink, type Side, windowLeftMs } from '../core/state.js';
import { ddlSince, type DdlEntry, MISSED_COMMAND } from '../adapters/ddl-log.js';
import { appendLagSamples } from '../adapters/state-store.js';
import { serverVersion, withClient } from '../adapters/pg.js';
import { slotLag, subscriptionHealth } from '../adapters/replication.js';
import { sideServedBy } from '../adapters/pointer.js';
import type { Deps } from './context.js';
import { describeRule, type GuardRound } from '../core/guard.js';
import { readGuardRounds } from '../adapters/guard-log.js';
import { conn, loadState } from './context.js';
import { windowStatus, type WindowStatus } from './status-window.js';

export { windowStatus, type WindowStatus } from './status-window.js';

export interface ReplicationStatus {
  readonly direction: 'blue → green' | 'green → blue';
  readonly subscription: string;
  readonly running: boolean;
  readonly lagBytes?: number;
  readonly lagSeconds?: number;
  /** WAL the publisher keeps on disk for our slot. */
  readonly retainedBytes?: number;
  /** The slot's wal_status: reserved, extended, unreserved (past max_slot_wal_keep_size: at risk) or lost. */
  readonly walStatus?: string;
  /** Failures of the apply worker since our last repair (pg_stat_subscription_stats). */
  readonly applyErrors?: number;
  /** Why replication does not run, where it can be known. */
  readonly cause?: string;
  /** Tables both sides have that this direction no longer replicates (DROP COLUMN … CASCADE takes a table out of a publication). */
  readonly uncoveredTables?: ReadonlyArray<string>;
  readonly error?: string;
}

export interface StatusResult {
  readonly cutover?: string;
  readonly mode: string;
  readonly phase: Phase;
  /** What the pointer sends traffic to right now, or `unknown` when the pointer cannot be read. */
  readonly serving: 'blue' | 'green' | 'unknown';
  readonly recordedServing: 'blue' | 'green';
  readonly pointer: string;
  readonly pointerError?: string;
  /** A fleet: what each instance says, when they are more than one. */
  readonly pointerInstances?: ReadonlyArray<{
    readonly instance: string;
    readonly serving: 'blue' | 'green' | 'unknown';
    readonly error?: string;
  }>;
  readonly blueFrozen: boolean;
  readonly switchedOverAt?: string;
  readonly rollbackWindowEndsAt?: string;
  readonly rollbackWindowLeftMs?: number;
  readonly lastFlip?: FlipRecord;
  readonly dump?: string;
  readonly migrationsApplied: ReadonlyArray<string>;
  readonly advice: string;
  readonly lastError?: string;
  /** Replicate mode: each direction that is replicating, with its lag and retained WAL. */
  readonly replication: ReadonlyArray<ReplicationStatus>;
  /** Each side's server version, when it answers (a major upgrade shows here). */
  readonly versions?: { readonly blue?: string; readonly green?: string; readonly blueError?: string; readonly greenError?: string };
  /** Replicate mode, while replicating: what the next flip would carry and lose, read now. */
  readonly window?: WindowStatus;
  /** Sessions on the serving side that would hold the next flip's pause now (or why they could not be read), and the pooler's mode. */
  readonly pauseBlockers?: {
    readonly side: Side;
    readonly minAgeMs: number;
    readonly sessions?: ReadonlyArray<Blocker>;
    readonly error?: string;
  };
  readonly poolModes?: ReadonlyArray<PoolMode>;
  /** A side given up for lost (an emergency rollback without it), and whether it has been fenced since. */
  readonly lost?: { readonly side: Side; readonly at: string; readonly fencedAt?: string; readonly note: string };
  /** `bluegreen guard`'s last round (its checks, the failures counted, the condition) and its rule. */
  readonly guard?: { readonly last: GuardRound; readonly rule?: string };
  /** Without a superuser: the strategy per capability and what the rollback can promise, as the clone's preflight found them. */
  readonly privileges?: PrivilegePlan;
  /** "unknown: why" when the pooler's modes could not be read. */
  readonly poolModesError?: string;
  /** "unknown: why" when the fleet's instances could not be read one by one. */
  readonly pointerInstancesError?: string;
  /** Schema changes made on each side since the last flip (or the clone), by anyone but pg-bluegreen. */
  readonly ddl: ReadonlyArray<DdlStatus>;
}

/**
 * One side's DDL since the last flip. `error` ("unknown: why") when the log could not be read: the
 * entries are then unknown, not none. `missed`: changes the log's trigger could not record (its markers).
 */
export interface DdlStatus {
  readonly side: Side;
  readonly since: string;
  readonly entries: ReadonlyArray<DdlEntry>;
  readonly missed?: ReadonlyArray<{ readonly at: string; readonly reason: string }>;
  readonly error?: string;
}

/** A reading that failed, as status shows it: never an empty list or a default in its place. */
export const unknown = (error: unknown): string => `unknown: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`;

async function ddlStatus(deps: Deps, side: Side, since: string): Promise<DdlStatus> {
  try {
    const all = await withClient(
      side === 'blue' ? deps.config.blue : deps.config.green,
      (c) => ddlSince(c, since),
      conn(deps, side, 'status'),
    );
    const missed = all
      .filter((e) => e.command === MISSED_COMMAND)
      .map((e) => ({ at: e.at, reason: e.statement ?? '(no reason recorded)' }));
    return { side, since, entries: all.filter((e) => e.command !== MISSED_COMMAND), ...(missed.length ? { missed } : {}) };
  } catch (error) {
    return { side, since, entries: [], error: unknown(error) };
  }
}

export async function replicationStatus(deps: Deps, link: ReplicationLink, publisher: 'blue' | 'green'): Promise<ReplicationStatus> {
  const subscriber = publisher === 'blue' ? 'green' : 'blue';
  const url = (side: 'blue' | 'green') => (side === 'blue' ? deps.config.blue : deps.config.green);
  const base = { direction: publisher === 'blue' ? ('blue → green' as const) : ('green → blue' as const), subscription: link.subscription };
  try {
    const health = await withClient(url(subscriber), (c) => subscriptionHealth(c, link.subscription), conn(deps, subscriber, 'status'));
    const lag = await withClient(url(publisher), (c) => slotLag(c, link.slot), conn(deps, publisher, 'status'));
    // A worker that keeps failing restarts every few seconds: seen between restarts it looks alive.
    const failing = health.applyErrors > 0 && lag.lagBytes > 0;
    const running = health.workerRunning && !failing && lag.walStatus !== 'lost';
    const times = (n: number) => `${n} time${n > 1 ? 's' : ''}`;
    const cause = !health.exists
      ? `subscription ${link.subscription} is missing on ${subscriber}`
      : !health.enabled
        ? `subscription ${link.subscription} is disabled`
        : lag.walStatus === 'lost'
          ? `the slot lost WAL it needed (past max_slot_wal_keep_size): ${subscriber} can never catch up from it`
          : failing
            ? `the apply worker on ${subscriber} has failed ${times(health.applyErrors)} since the last repair`
            : !health.workerRunning
              ? `no apply worker runs on ${subscriber}`
              : health.syncErrors > 0
                ? `table sync on ${subscriber} has failed ${times(health.syncErrors)} since the last repair ` +
                  '(a table being copied; its log says why)'
                : undefined;
    return {
      ...base,
      running,
      lagBytes: lag.lagBytes,
      lagSeconds: lag.lagSeconds,
      retainedBytes: lag.retainedBytes,
      walStatus: lag.walStatus,
      applyErrors: health.applyErrors,
      cause,
    };
  } catch (error) {
    return { ...base, running: false, error: (error as Error).message.split('\n')[0] };
  }
}

/** What the pointer serves now, and each instance of a fleet: read, never assumed from the record. */
async function readPointer(deps: Deps) {
  const { config, pointer } = deps;
  let serving: StatusResult['serving'] = 'unknown';
  let pointerError: string | undefined;
  try {
    const current = await pointer.current();
    serving = sideServedBy(config, current) ?? 'unknown';
    if (serving === 'unknown') pointerError = `points at ${current.host}:${current.port}/${current.database}, neither blue nor green`;
  } catch (error) {
    pointerError = (error as Error).message.split('\n')[0];
  }
  let pointerInstancesError: string | undefined;
  const instances = await pointer.currentAll().catch((error: unknown) => {
    pointerInstancesError = unknown(error);
    return [];
  });
  const sideOf = (t?: { host: string; port: number; database: string }) => (!t ? 'unknown' : (sideServedBy(config, t) ?? 'unknown'));
  const pointerInstances =
    instances.length > 1
      ? instances.map((i) => ({
          instance: i.instance,
          serving: sideOf(i.target) as 'blue' | 'green' | 'unknown',
          ...(i.error ? { error: i.error } : {}),
        }))
      : undefined;
  return { serving, pointerError, pointerInstances, pointerInstancesError };
}

/** Every reading is kept for the report's lag chart (watch reads status every second). */
function recordLagSamples(deps: Deps, cutover: string, replication: ReadonlyArray<ReplicationStatus>): void {
  const at = deps.clock.now().toISOString();
  appendLagSamples(
    deps.config.stateDir,
    replication.map((r) => ({
      at,
      cutover,
      direction: r.direction,
      lagBytes: r.lagBytes,
      lagSeconds: r.lagSeconds,
      retainedBytes: r.retainedBytes,
      running: r.running,
    })),
  );
}

/**
 * The live direction's cause, completed by the window's verdict: a failing worker's likeliest cause is a
 * schema difference the verdict names, so say it; and the tables that direction no longer replicates.
 */
function explainLiveReplication(state: CutoverState, replication: ReadonlyArray<ReplicationStatus>, window: WindowStatus | undefined) {
  const live = replication.find((r) => r.direction === (state.serving === 'blue' ? 'blue → green' : 'green → blue'));
  const cause =
    live && !live.running && window?.pending.length
      ? `${live.cause ?? 'not running'}; the standby lacks what the serving side has: ${window.pending.join('; ')} ` +
        '(run `bluegreen sync-schema`)'
      : live?.cause;
  const uncoveredTables = window?.carry.filter((a) => a.kind === 'republish').map((a) => (a as { table: string }).table) ?? [];
  const explained = replication.map((r) => (r === live ? { ...r, cause, ...(uncoveredTables.length ? { uncoveredTables } : {}) } : r));
  return { live, replication: explained };
}

/** What the operator should do next: the phase's advice, unless the pointer, the window or a lost slot says otherwise. */
/** The side traffic goes to does not answer: said first, with the way out, whatever the phase's advice. */
function servingDownAdvice(state: CutoverState, why: string | undefined, advice: string): string {
  if (!why) return advice;
  const side = state.serving;
  const way = state.reseeding
    ? 'Bring it back: blue cannot serve until a re-seed finishes.'
    : side === 'green' && state.phase === 'switched-over'
      ? 'Bring it back, or `bluegreen rollback` puts traffic on blue (it says first what a rollback without green gives up).'
      : `Bring ${side} back: nothing of the cutover can go on without it.`;
  return `${side} serves but does not answer (${why}): clients get errors until it is back. ${way} ${advice}`;
}

function adviceNow(
  state: CutoverState,
  serving: StatusResult['serving'],
  window: WindowStatus | undefined,
  live: ReplicationStatus | undefined,
): string {
  let advice = adviceFor(state.phase);
  if (serving !== 'unknown' && serving !== state.serving) {
    advice = `The pointer serves ${serving} but the record says ${state.serving}: someone changed it by hand. Check before going on.`;
  }
  if (window?.verdict === 'lossy' && window.losses.length) {
    advice =
      state.mode === 'freeze'
        ? 'A rollback would give up what green took since the switchover, listed above (freeze mode keeps no copy on blue): ' +
          `export it first, or roll back with --accept-data-loss. ${advice}`
        : `The next ${window.next} would lose what is listed above: undo that change on ${state.serving} ` +
          `and run \`bluegreen sync-schema\`, or ${window.next} with --accept-data-loss to give it up. ${advice}`;
  }
  const reseeding = unfinishedReseedRefusal(state);
  // A re-seed cut short outranks everything else said: blue must not serve until it finishes.
  if (reseeding) return `${reseeding.message}. ${reseeding.hint} ${advice}`;
  // The window's verdict already read the slot (lost, or missing while the record has the link): its words lead.
  return window?.reason ? `${window.reason} ${advice}` : lostSlotAdvice(live, state.serving, advice);
}

/** Each side's DDL since the last flip (or the clone), while a cutover is open. */
async function ddlSinceLastFlip(deps: Deps, state: CutoverState): Promise<DdlStatus[]> {
  const since = state.flips.filter((f) => f.ok).at(-1)?.at ?? state.history.find((h) => h.event === 'clone-finished')?.at;
  return since && state.phase !== 'finalized' && state.phase !== 'aborted'
    ? await Promise.all((['blue', 'green'] as const).map((side) => ddlStatus(deps, side, since)))
    : [];
}

/** A side given up for lost: fenced now if it answers again, and whether it has been. */
async function lostSide(deps: Deps, state: CutoverState): Promise<StatusResult['lost']> {
  const lostNote = await fenceLostSide(deps, state);
  return lostNote && state.lost
    ? { side: state.lost.side, at: state.lost.at, fencedAt: (await loadState(deps)).lost?.fencedAt, note: lostNote }
    : undefined;
}

/** While a cutover is live: the sessions that would hold the next pause, and the pooler's modes. */
async function pauseReadings(deps: Deps, state: CutoverState) {
  const { config, pointer } = deps;
  const cutoverLive = !['finalized', 'aborted', 'idle'].includes(state.phase);
  const minAgeMs = config.switchover.blockers.minAgeMs;
  const blockers = cutoverLive
    ? await withClient(
        state.serving === 'blue' ? config.blue : config.green,
        (c) => pauseBlockers(c, minAgeMs),
        conn(deps, state.serving, 'status'),
      ).then(
        (sessions) => ({ side: state.serving, minAgeMs, sessions }),
        (error: Error) => ({ side: state.serving, minAgeMs, error: error.message.split('\n')[0] }),
      )
    : undefined;
  let poolModes: ReadonlyArray<PoolMode> | undefined;
  let poolModesError: string | undefined;
  if (cutoverLive) {
    try {
      poolModes = await pointer.poolModes();
    } catch (error) {
      poolModesError = unknown(error);
    }
  }
  return { blockers, poolModes, poolModesError };
}

/** Each side's server version (green's only once a cutover exists). */
async function serverVersions(deps: Deps, withGreen: boolean): Promise<NonNullable<StatusResult['versions']>> {
  const versions: { blue?: string; green?: string; blueError?: string; greenError?: string } = {};
  for (const side of withGreen ? (['blue', 'green'] as const) : (['blue'] as const)) {
    try {
      versions[side] = await withClient(side === 'blue' ? deps.config.blue : deps.config.green, serverVersion, conn(deps, side, 'status'));
    } catch (error) {
      versions[`${side}Error`] = unknown(error);
    }
  }
  return versions;
}

export async function _status(deps: Deps): Promise<StatusResult> {
  const stored = await deps.store.load();
  const state = await loadState(deps);
  const { serving, pointerError, pointerInstances, pointerInstancesError } = await readPointer(deps);
  const left = windowLeftMs(state, deps.clock.now().getTime());
  const replicating = [
    ...(state.forward ? [await replicationStatus(deps, state.forward, 'blue')] : []),
    ...(state.reverse ? [await replicationStatus(deps, state.reverse, 'green')] : []),
  ];
  if (stored) recordLagSamples(deps, stored.id, replicating);
  const window = await windowStatus(deps, state);
  const { live, replication } = explainLiveReplication(state, replicating, window);
  const ddl = await ddlSinceLastFlip(deps, state);
  const versions = await serverVersions(deps, !!stored);
  const servingDown = serving === 'blue' || serving === 'green' ? versions[`${serving}Error`] : undefined;
  const advice = servingDownAdvice(state, servingDown, adviceNow(state, serving, window, live));
  const lost = await lostSide(deps, state);
  const { blockers, poolModes, poolModesError } = await pauseReadings(deps, state);
  return {
    cutover: stored?.id,
    versions,
    mode: state.mode,
    phase: state.phase,
    serving,
    recordedServing: state.serving,
    pointer: deps.pointer.description,
    pointerError,
    pointerInstances,
    ...(pointerInstancesError ? { pointerInstancesError } : {}),
    blueFrozen: state.blueFrozen,
    switchedOverAt: state.switchedOverAt,
    rollbackWindowEndsAt: state.rollbackWindowEndsAt,
    rollbackWindowLeftMs: state.phase === 'switched-over' || state.phase === 'rolling-back' ? left : undefined,
    lastFlip: state.flips.at(-1),
    dump: state.dump?.path,
    migrationsApplied: state.migrationsApplied,
    advice,
    lastError: state.lastError,
    replication,
    window,
    pauseBlockers: blockers,
    lost,
    poolModes,
    ...(poolModesError ? { poolModesError } : {}),
    ddl,
    guard: guardOf(deps, stored?.id),
    privileges: state.privileges,
  };
}

function guardOf(deps: Deps, cutover?: string): StatusResult['guard'] {
  const last = cutover ? readGuardRounds(deps.config.stateDir, cutover).at(-1) : undefined;
  return last && { last, rule: deps.config.guard && describeRule(deps.config.guard.rollbackAfter) };
}
