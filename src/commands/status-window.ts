/**
 * status's view of the rollback window: what the next flip would carry and lose, judged now as
 * sync-schema would (replicate mode), or what green's change counters hold (freeze mode, after the switchover).
 */
import { splitUnlogged } from './flip-unlogged.js';
import { changesSinceSwitchover } from '../adapters/change-counter.js';
import { readUnloggedTables } from '../adapters/unlogged-tables.js';
import type { CutoverState, Side } from '../core/state.js';
import { type CarryAction, describeCarry, type Loss } from '../core/window.js';
import { assess, servingLink } from './sync-schema.js';
import { withClient } from '../adapters/pg.js';
import { conn, type Deps } from './context.js';

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
        what:
          `${c.written} row change${c.written === 1 ? '' : 's'} on green since the switchover, ` +
          'given up by a rollback (freeze mode keeps no copy on blue)',
      }));
    return { ...empty, verdict: losses.length ? 'lossy' : 'lossless', losses };
  } catch (error) {
    return { ...empty, verdict: 'lossy', losses: [], error: `could not be judged: ${(error as Error).message.split('\n')[0]}` };
  }
}
