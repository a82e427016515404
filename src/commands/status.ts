/** `bluegreen status`: the phase, what really serves (read from the pointer), the window, the last flips. */
import { adviceFor, type Phase } from '../core/phases.js';
import { sameTargetAs } from '../core/pgbouncer-ini.js';
import { type FlipRecord, windowLeftMs } from '../core/state.js';
import { targetOf } from '../adapters/pointer.js';
import type { Deps } from './context.js';
import { loadState } from './context.js';

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
  };
}
