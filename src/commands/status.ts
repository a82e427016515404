/** `bluegreen status`: the phase, what really serves (read from the pointer), the window, the last flips. */
import type { PrivilegePlan } from '../core/privileges.js';
import type { Blocker } from '../core/blockers.js';
import { pauseBlockers } from '../adapters/sessions.js';
import { fenceLostSide } from './rollback-without-green.js';
import { splitUnlogged } from './flip-unlogged.js';
import { lostSlotAdvice } from '../core/lost-slot.js';
import { changesSinceSwitchover } from '../adapters/change-counter.js';
import { readUnloggedTables } from '../adapters/unlogged-tables.js';
import type { PoolMode } from '../adapters/pointer.js';
import { adviceFor, type Phase } from '../core/phases.js';
import { type CutoverState, type FlipRecord, type ReplicationLink, type Side, windowLeftMs } from '../core/state.js';
import { type CarryAction, describeCarry, type Loss } from '../core/window.js';
import { ddlSince, type DdlEntry, MISSED_COMMAND } from '../adapters/ddl-log.js';
import { appendLagSamples } from '../adapters/state-store.js';
import { assess, servingLink } from './sync-schema.js';
import { serverVersion, withClient } from '../adapters/pg.js';
import { slotLag, subscriptionHealth } from '../adapters/replication.js';
import { sideServedBy } from '../adapters/pointer.js';
import type { Deps } from './context.js';
import { describeRule, type GuardRound } from '../core/guard.js';
import { readGuardRounds } from '../adapters/guard-log.js';
import { conn, loadState } from './context.js';

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

export interface WindowStatus {
  /** The next flip: from the serving side to the standby. */
  readonly next: 'switchover' | 'rollback';
  readonly verdict: 'lossless' | 'lossy';
  readonly losses: ReadonlyArray<Loss>;
  /** What sync-schema (and the next flip, before its pause) will carry to the standby. */
  readonly pending: ReadonlyArray<string>;
  readonly notes: ReadonlyArray<string>;
  /** The same as `pending`, as data. */
  readonly carry: ReadonlyArray<CarryAction>;
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
    const cause = !health.exists
      ? `subscription ${link.subscription} is missing on ${subscriber}`
      : !health.enabled
        ? `subscription ${link.subscription} is disabled`
        : lag.walStatus === 'lost'
          ? `the slot lost WAL it needed (past max_slot_wal_keep_size): ${subscriber} can never catch up from it`
          : failing
            ? `the apply worker on ${subscriber} has failed ${health.applyErrors} time${health.applyErrors > 1 ? 's' : ''} since the last repair`
            : !health.workerRunning
              ? `no apply worker runs on ${subscriber}`
              : health.syncErrors > 0
                ? `table sync on ${subscriber} has failed ${health.syncErrors} time${health.syncErrors > 1 ? 's' : ''} since the last repair (a table being copied; its log says why)`
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

export async function _status(deps: Deps): Promise<StatusResult> {
  const { config, pointer } = deps;
  const stored = await deps.store.load();
  const state = await loadState(deps);
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
  const left = windowLeftMs(state, deps.clock.now().getTime());
  let advice = adviceFor(state.phase);
  if (serving !== 'unknown' && serving !== state.serving) {
    advice = `The pointer serves ${serving} but the record says ${state.serving}: someone changed it by hand. Check before going on.`;
  }
  const replication = [
    ...(state.forward ? [await replicationStatus(deps, state.forward, 'blue')] : []),
    ...(state.reverse ? [await replicationStatus(deps, state.reverse, 'green')] : []),
  ];
  // Every reading is kept for the report's lag chart (watch reads status every second).
  if (stored) {
    const at = deps.clock.now().toISOString();
    appendLagSamples(
      config.stateDir,
      replication.map((r) => ({
        at,
        cutover: stored.id,
        direction: r.direction,
        lagBytes: r.lagBytes,
        lagSeconds: r.lagSeconds,
        retainedBytes: r.retainedBytes,
        running: r.running,
      })),
    );
  }
  const window = await windowStatus(deps, state);
  // A failing worker's likeliest cause is a schema difference the verdict names: say it.
  const live = replication.find((r) => r.direction === (state.serving === 'blue' ? 'blue → green' : 'green → blue'));
  const cause =
    live && !live.running && window?.pending.length
      ? `${live.cause ?? 'not running'}; the standby lacks what the serving side has: ${window.pending.join('; ')} (run \`bluegreen sync-schema\`)`
      : live?.cause;
  const uncoveredTables = window?.carry.filter((a) => a.kind === 'republish').map((a) => (a as { table: string }).table) ?? [];
  const replicationWithCause = replication.map((r) =>
    r === live ? { ...r, cause, ...(uncoveredTables.length ? { uncoveredTables } : {}) } : r,
  );
  const since = state.flips.filter((f) => f.ok).at(-1)?.at ?? state.history.find((h) => h.event === 'clone-finished')?.at;
  const ddl =
    since && state.phase !== 'finalized' && state.phase !== 'aborted'
      ? await Promise.all((['blue', 'green'] as const).map((side) => ddlStatus(deps, side, since)))
      : [];
  if (window?.verdict === 'lossy' && !window.error) {
    advice =
      state.mode === 'freeze'
        ? `A rollback would give up what green took since the switchover, listed above (freeze mode keeps no copy on blue): export it first, or roll back with --accept-data-loss. ${advice}`
        : `The next ${window.next} would lose what is listed above: undo that change on ${state.serving} and run \`bluegreen sync-schema\`, or ${window.next} with --accept-data-loss to give it up. ${advice}`;
  }
  advice = lostSlotAdvice(live, state.serving, advice);
  const lostNote = await fenceLostSide(deps, state);
  const lost =
    lostNote && state.lost
      ? { side: state.lost.side, at: state.lost.at, fencedAt: (await loadState(deps)).lost?.fencedAt, note: lostNote }
      : undefined;
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
  const versions: { blue?: string; green?: string; blueError?: string; greenError?: string } = {};
  for (const side of stored ? (['blue', 'green'] as const) : (['blue'] as const)) {
    try {
      versions[side] = await withClient(side === 'blue' ? config.blue : config.green, serverVersion, conn(deps, side, 'status'));
    } catch (error) {
      versions[`${side}Error`] = unknown(error);
    }
  }
  return {
    cutover: stored?.id,
    versions,
    mode: state.mode,
    phase: state.phase,
    serving,
    recordedServing: state.serving,
    pointer: pointer.description,
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
    replication: replicationWithCause,
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

/** The verdict on the next flip, as sync-schema would judge it now; undefined when nothing replicates. */
export async function windowStatus(deps: Deps, state: CutoverState): Promise<WindowStatus | undefined> {
  if (deps.config.mode === 'freeze' && state.phase === 'switched-over') return freezeRollbackVerdict(deps);
  if (deps.config.mode !== 'replicate' || !servingLink(state) || !['ready', 'switched-over', 'rolled-back'].includes(state.phase))
    return undefined;
  const from = state.serving;
  const to: Side = from === 'blue' ? 'green' : 'blue';
  const next = from === 'blue' ? 'switchover' : 'rollback';
  const url = (side: Side) => (side === 'blue' ? deps.config.blue : deps.config.green);
  try {
    const v = await withClient(
      url(from),
      (f) =>
        withClient(
          url(to),
          async (t) => {
            const verdict = await assess(deps, state, f, t, from);
            // The flip's own check of unlogged tables (too large to copy inside the pause): the same verdict here.
            const { left } = splitUnlogged(await readUnloggedTables(f, t), deps.config.switchover.unloggedCopyMaxRows);
            const unlogged = left.map((u) => ({
              object: `unlogged table ${u.display}`,
              what: `${u.why}: the ${next} would leave its current rows behind (it refuses unless --accept-data-loss)`,
            }));
            return { ...verdict, losses: [...verdict.losses, ...unlogged] };
          },
          conn(deps, to, 'status'),
        ),
      conn(deps, from, 'status'),
    );
    return {
      next,
      verdict: v.losses.length ? 'lossy' : 'lossless',
      losses: v.losses,
      pending: v.carry.map(describeCarry),
      notes: v.notes,
      carry: v.carry,
    };
  } catch (error) {
    return {
      next,
      verdict: 'lossy',
      losses: [],
      pending: [],
      notes: [],
      carry: [],
      error: `could not be judged: ${(error as Error).message.split('\n')[0]}`,
    };
  }
}

/** Freeze mode keeps no copy of green's writes on blue: the rollback's verdict is what green's change counters hold. */
async function freezeRollbackVerdict(deps: Deps): Promise<WindowStatus> {
  const empty = { next: 'rollback' as const, pending: [], notes: [], carry: [] };
  try {
    const counted = await withClient(deps.config.green, changesSinceSwitchover, conn(deps, 'green', 'status'));
    if (!counted)
      return {
        ...empty,
        verdict: 'lossy',
        losses: [
          { object: 'green', what: 'no change counters on green: every change it took since the switchover is given up by a rollback' },
        ],
      };
    const losses = counted
      .filter((c) => c.written > 0)
      .map((c) => ({
        object: `table ${c.table}`,
        what: `${c.written} row change${c.written === 1 ? '' : 's'} on green since the switchover, given up by a rollback (freeze mode keeps no copy on blue)`,
      }));
    return { ...empty, verdict: losses.length ? 'lossy' : 'lossless', losses };
  } catch (error) {
    return { ...empty, verdict: 'lossy', losses: [], error: `could not be judged: ${(error as Error).message.split('\n')[0]}` };
  }
}
