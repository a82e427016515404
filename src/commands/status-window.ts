/**
 * status's view of the rollback window: what the next flip would carry and lose, judged now as
 * sync-schema would (replicate mode), or what green's change counters hold (freeze mode, after the switchover).
 */
import { unfinishedReseedRefusal } from '../core/reseed.js';
import { splitUnlogged } from './flip-unlogged.js';
import { changesSinceSwitchover } from '../adapters/change-counter.js';
import { slotLag } from '../adapters/replication.js';
import { readUnloggedTables } from '../adapters/unlogged-tables.js';
import type { SlotReading } from '../core/lost-slot.js';
import type { CutoverState, Side } from '../core/state.js';
import { type CarryAction, describeCarry, type Loss } from '../core/window.js';
import { judgeWindow, type WindowVerdictKind } from '../core/window-verdict.js';
import { assess, servingLink } from './sync-schema.js';
import { type Client, withClient } from '../adapters/pg.js';
import { conn, type Deps } from './context.js';

export interface WindowStatus {
  /** The next flip: from the serving side to the standby. */
  readonly next: 'switchover' | 'rollback';
  /** Judged by judgeWindow (src/core/window-verdict.ts): `unknown` when a reading failed, never lossless then. */
  readonly verdict: WindowVerdictKind;
  /**
   * Why the next flip cannot be lossless whatever is carried: the replication keeping the standby current lost
   * WAL it needed or its slot (lostSlotRefusal's words). The flip refuses it even with --accept-data-loss.
   */
  readonly reason?: string;
  readonly losses: ReadonlyArray<Loss>;
  /** What sync-schema (and the next flip, before its pause) will carry to the standby. */
  readonly pending: ReadonlyArray<string>;
  readonly notes: ReadonlyArray<string>;
  /** The same as `pending`, as data. */
  readonly carry: ReadonlyArray<CarryAction>;
  readonly error?: string;
}

/** The verdict on the next flip, as sync-schema would judge it now, and whether its replication still has its slot. */
export async function windowStatus(deps: Deps, state: CutoverState): Promise<WindowStatus | undefined> {
  if (deps.config.mode === 'freeze' && state.phase === 'switched-over') return freezeRollbackVerdict(deps);
  const link = servingLink(state);
  if (deps.config.mode !== 'replicate' || !link || !['ready', 'switched-over', 'rolled-back'].includes(state.phase)) return undefined;
  const from = state.serving;
  const to: Side = from === 'blue' ? 'green' : 'blue';
  const next = from === 'blue' ? 'switchover' : 'rollback';
  const direction = `${from} → ${to}`;
  const unfinished = next === 'rollback' ? unfinishedReseedRefusal(state)?.message : undefined;
  const url = (side: Side) => (side === 'blue' ? deps.config.blue : deps.config.green);
  // The slot is read first, on the serving side alone: a standby that does not answer must not hide a lost slot.
  const read: { slot?: SlotReading } = {};
  try {
    const v = await withClient(
      url(from),
      async (f) => {
        const lag = await slotLag(f, link.slot);
        read.slot = { exists: lag.exists, walStatus: lag.walStatus };
        return withClient(url(to), (t) => schemaVerdict(deps, state, f, t, next), conn(deps, to, 'status'));
      },
      conn(deps, from, 'status'),
    );
    const judged = judgeWindow({ next, direction, slot: read.slot, losses: v.losses, notes: v.notes, unfinished });
    return { next, ...judged, losses: v.losses, pending: v.carry.map(describeCarry), carry: v.carry };
  } catch (error) {
    const judged = judgeWindow({
      next,
      direction,
      slot: read.slot,
      losses: [],
      error: `could not be judged: ${firstLine(error)}`,
      unfinished,
    });
    return { next, ...judged, losses: [], pending: [], carry: [] };
  }
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0];

/** What sync-schema would carry and lose now, and the unlogged tables the flip would leave behind. */
async function schemaVerdict(deps: Deps, state: CutoverState, f: Client, t: Client, next: 'switchover' | 'rollback') {
  const verdict = await assess(deps, state, f, t, state.serving);
  // The flip's own check of unlogged tables (too large to copy inside the pause): the same verdict here.
  const { left } = splitUnlogged(await readUnloggedTables(f, t), deps.config.switchover.unloggedCopyMaxRows);
  const unlogged = left.map((u) => ({
    object: `unlogged table ${u.display}`,
    what: `${u.why}: the ${next} would leave its current rows behind (it refuses unless --accept-data-loss)`,
  }));
  return { ...verdict, losses: [...verdict.losses, ...unlogged] };
}

/** Freeze mode keeps no copy of green's writes on blue: the rollback's verdict is what green's change counters hold. */
async function freezeRollbackVerdict(deps: Deps): Promise<WindowStatus> {
  const judged = (losses: Loss[], error?: string): WindowStatus => ({
    next: 'rollback',
    ...judgeWindow({ next: 'rollback', direction: 'green → blue', losses, error }),
    losses,
    pending: [],
    carry: [],
  });
  try {
    const counted = await withClient(deps.config.green, changesSinceSwitchover, conn(deps, 'green', 'status'));
    if (!counted)
      return judged([
        { object: 'green', what: 'no change counters on green: every change it took since the switchover is given up by a rollback' },
      ]);
    const losses = counted
      .filter((c) => c.written > 0)
      .map((c) => ({
        object: `table ${c.table}`,
        what:
          `${c.written} row change${c.written === 1 ? '' : 's'} on green since the switchover, ` +
          'given up by a rollback (freeze mode keeps no copy on blue)',
      }));
    return judged(losses);
  } catch (error) {
    return judged([], `could not be judged: ${firstLine(error)}`);
  }
}
