/** `bluegreen status`: the phase, what really serves (read from the pointer), the window, the last flips. */
import { adviceFor, type Phase } from '../core/phases.js';
import { sameTargetAs } from '../core/pgbouncer-ini.js';
import { type FlipRecord, type ReplicationLink, windowLeftMs } from '../core/state.js';
import { withClient } from '../adapters/pg.js';
import { slotLag, subscriptionHealth } from '../adapters/replication.js';
import { targetOf } from '../adapters/pointer.js';
import type { Deps } from './context.js';
import { conn, loadState } from './context.js';

export interface ReplicationStatus {
  readonly direction: 'blue → green' | 'green → blue';
  readonly subscription: string;
  readonly running: boolean;
  readonly lagBytes?: number;
  readonly lagSeconds?: number;
  /** WAL the publisher keeps on disk for our slot. */
  readonly retainedBytes?: number;
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
}

async function replicationStatus(deps: Deps, link: ReplicationLink, publisher: 'blue' | 'green'): Promise<ReplicationStatus> {
  const subscriber = publisher === 'blue' ? 'green' : 'blue';
  const url = (side: 'blue' | 'green') => (side === 'blue' ? deps.config.blue : deps.config.green);
  const base = { direction: publisher === 'blue' ? ('blue → green' as const) : ('green → blue' as const), subscription: link.subscription };
  try {
    const health = await withClient(url(subscriber), (c) => subscriptionHealth(c, link.subscription), conn(deps, subscriber, 'status'));
    const lag = await withClient(url(publisher), (c) => slotLag(c, link.slot), conn(deps, publisher, 'status'));
    return { ...base, running: health.workerRunning, lagBytes: lag.lagBytes, lagSeconds: lag.lagSeconds, retainedBytes: lag.retainedBytes };
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
    serving = sameTargetAs(current, targetOf(config.blue)) ? 'blue' : sameTargetAs(current, targetOf(config.green)) ? 'green' : 'unknown';
    if (serving === 'unknown') pointerError = `points at ${current.host}:${current.port}/${current.database}, neither blue nor green`;
  } catch (error) {
    pointerError = (error as Error).message.split('\n')[0];
  }
  const left = windowLeftMs(state, deps.clock.now().getTime());
  let advice = adviceFor(state.phase);
  if (serving !== 'unknown' && serving !== state.serving) {
    advice = `The pointer serves ${serving} but the record says ${state.serving}: someone changed it by hand. Check before going on.`;
  }
  return {
    cutover: stored?.id,
    mode: state.mode,
    phase: state.phase,
    serving,
    recordedServing: state.serving,
    pointer: pointer.description,
    pointerError,
    blueFrozen: state.blueFrozen,
    switchedOverAt: state.switchedOverAt,
    rollbackWindowEndsAt: state.rollbackWindowEndsAt,
    rollbackWindowLeftMs: state.phase === 'switched-over' ? left : undefined,
    lastFlip: state.flips.at(-1),
    dump: state.dump?.path,
    migrationsApplied: state.migrationsApplied,
    advice,
    lastError: state.lastError,
    replication: [
      ...(state.forward ? [await replicationStatus(deps, state.forward, 'blue')] : []),
      ...(state.reverse ? [await replicationStatus(deps, state.reverse, 'green')] : []),
    ],
  };
}
