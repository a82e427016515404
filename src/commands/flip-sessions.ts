/**
 * The flip's sessions: every one the plan uses, opened before anything is paused; and, when a side restarted
 * or a connection was cut inside the flip, new ones for the undo once both sides answer again.
 */
import { redact } from '../core/redact.js';
import type { Side } from '../core/state.js';
import { type Client, withClient } from '../adapters/pg.js';
import { conn, type Deps } from './context.js';
import type { FlipContext, FlipDirection, FlipSessions } from '../operations/flip/context.js';
import { flipPlan } from '../operations/flip/plan.js';
import { type Outputs, planSteps } from '../operations/operation.js';
import { silent, undoSteps } from '../operations/runner.js';

/** Opens every session the plan uses, before anything is paused: nothing inside the pause waits on a handshake. */
export async function withSessions<T>(
  deps: Deps,
  flip: FlipDirection,
  fn: (sessions: FlipSessions, all: Array<{ url: string; client: Client }>) => Promise<T>,
): Promise<T> {
  const url = (side: Side) => (side === 'blue' ? deps.config.blue : deps.config.green);
  const open = (side: Side, k: (c: Client) => Promise<T>) => withClient(url(side), k, conn(deps, side, flip.direction));
  // One session for the source's sequence read, beside the drain: more would only take the drain's CPU.
  return open(flip.from, (from) =>
    open(flip.from, (fromSequences) =>
      open(flip.to, (to) =>
        open(flip.to, (toSlot) =>
          open(flip.to, (toOpen) =>
            open(flip.to, (toSequences) =>
              fn({ from, fromSequences, to, toSlot, toOpen, toSequences }, [
                ...[from, fromSequences].map((client) => ({ url: url(flip.from), client })),
                ...[to, toSlot, toOpen, toSequences].map((client) => ({ url: url(flip.to), client })),
              ]),
            ),
          ),
        ),
      ),
    ),
  );
}

/** Waits (up to `ms`) until `side` accepts a connection again: a crashed server is back after its recovery. */
async function whenBack(deps: Deps, side: Side, direction: string, ms: number): Promise<void> {
  const until = performance.now() + ms;
  for (;;) {
    try {
      const url = side === 'blue' ? deps.config.blue : deps.config.green;
      return await withClient(url, async () => undefined, { ...conn(deps, side, direction), connectTimeoutMs: 2000 });
    } catch (error) {
      if (performance.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * The named steps' undos (in undo order) on sessions opened now, once both sides answer: the flip's own may be dead
 * (a side restarted, a cut connection). Each undo is idempotent and gets the output its step declared.
 * Returns one line per undo, as the runner's.
 */
export async function undoOnNewSessions(ctx: FlipContext, outputs: Outputs<FlipContext>, names: ReadonlyArray<string>): Promise<string[]> {
  const { deps, flip } = ctx;
  try {
    await Promise.all([flip.from, flip.to].map((side) => whenBack(deps, side, flip.direction, UNDO_RECONNECT_MS)));
  } catch (error) {
    return [`new sessions for the undo: FAILED (${redact((error as Error).message.split('\n')[0], deps.config.secrets)})`];
  }
  return withSessions(deps, flip, async (sessions) => {
    const deadline = () => performance.now() + 30_000;
    const fresh: FlipContext = { ...ctx, sessions, startBudget: () => undefined, deadline, live: {} };
    const steps = planSteps(flipPlan(fresh).main, fresh, outputs, { progress: silent, secrets: deps.config.secrets });
    // PgBouncer is resumed by the caller once the rest is undone: the side we leave opens first.
    return (
      await undoSteps(
        steps.filter((st) => names.includes(st.name) && st.name !== 'pause'),
        deps.config.secrets,
      )
    ).lines;
  });
}

/** How long an undo waits for a side that stopped answering inside the flip to answer again. */
const UNDO_RECONNECT_MS = 30_000;
