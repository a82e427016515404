/**
 * `bluegreen finalize`: closes the rollback window. Green keeps serving without our guard; blue is
 * retired: left frozen, marked with a comment, never dropped by us (its data is the last copy of the
 * old version, and dropping it is the operator's call).
 */
import { BlockedError } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import type { Report } from '../core/report.js';
import { advance, windowLeftMs } from '../core/state.js';
import { commentOnCurrentDatabase } from '../adapters/database.js';
import { withClient } from '../adapters/pg.js';
import { freezeWrites, removeWriteGuard } from '../adapters/write-guard.js';
import { removeDdlLog } from '../adapters/ddl-log.js';
import { removeChangeCounter } from '../adapters/change-counter.js';
import { conn, controlled, type Deps, loadState } from './context.js';
import { dropAllReplication } from './cleanup.js';
import { planOnly, runSteps, type Step } from '../operations/runner.js';
import { sideUnreachable } from './rollback-without-green.js';

export interface FinalizeOptions {
  readonly dryRun?: boolean;
  /** Close the window before it ends. */
  readonly force?: boolean;
}

export async function _finalize(deps: Deps, options: FinalizeOptions = {}): Promise<Report> {
  const { config } = deps;
  const at = () => deps.clock.now().toISOString();
  const initial = await loadState(deps);
  advance(initial, 'finalize-started', at(), deps.who);
  const refuseInsideWindow = () => {
    const left = windowLeftMs(initial, deps.clock.now().getTime());
    if (left !== undefined && left > 0 && !options.force) {
      throw new BlockedError(`the rollback window is open for another ${formatDuration(left)} (until ${initial.rollbackWindowEndsAt})`, {
        hint: 'Finalizing gives up the rollback. Wait for the window to close, or pass --force.',
      });
    }
  };
  const serving = initial.serving;
  const retired = serving === 'green' ? 'blue' : 'green';
  // The side being retired may be gone for good (blue lost in the window): finalize goes on without it,
  // and it is fenced (frozen, our replication objects dropped) when it answers again.
  let retiredGone: string | undefined;
  const steps: Step[] = [
    {
      name: `retire-${retired}`,
      title: `Retiring ${retired} (kept frozen, marked retired, not dropped)`,
      run: async () => {
        retiredGone = await sideUnreachable(deps, retired);
        if (retiredGone)
          return {
            skipped: `${retired} is unreachable (${retiredGone}): recorded as lost; it is fenced (frozen, our replication objects on it dropped) when it answers again`,
          };
        return retire();
      },
    },
    {
      name: 'drop-replication',
      title: 'Dropping every replication slot, publication and subscription of ours, on both sides',
      run: async () => {
        const dropped = await dropAllReplication(deps, retiredGone ? [serving] : undefined);
        const where = retiredGone ? ` on ${serving} (${retired}'s wait for its fence)` : '';
        return dropped ? `${dropped} dropped${where}: no slot of ours retains WAL` : { skipped: 'none' };
      },
    },
    {
      name: `clean-${serving}`,
      title: `Removing bluegreen's write guard and DDL log from ${serving}`,
      run: () =>
        withClient(
          serving === 'green' ? config.green : config.blue,
          async (c) => {
            await removeWriteGuard(c);
            await removeDdlLog(c);
            // Freeze mode's count of green's changes served the rollback, which is given up now.
            await removeChangeCounter(c);
          },
          conn(deps, serving, 'finalize'),
        ),
    },
  ];
  function retire(): Promise<string> {
    return withClient(
      serving === 'green' ? config.blue : config.green,
      async (c) => {
        await freezeWrites(c, `retired by cutover ${initial.id}`);
        await commentOnCurrentDatabase(c, `retired by pg-bluegreen cutover ${initial.id} at ${at()}; drop it when you no longer need it`);
        return 'drop it yourself once you no longer need it';
      },
      conn(deps, retired, 'finalize'),
    );
  }
  if (options.dryRun) {
    refuseInsideWindow();
    return { ok: true, steps: planOnly(steps) };
  }
  return controlled(deps, 'finalize', async () => {
    // Inside the controlled part, so the refusal is in the audit log (and the notify hook hears of it).
    refuseInsideWindow();
    let state = advance(await loadState(deps), 'finalize-started', at(), deps.who);
    await deps.store.save(state);
    const outcome = await runSteps(steps, deps.progress, config.secrets);
    if (outcome.failed) {
      await deps.store.save({ ...state, lastError: outcome.failed.error.message });
      const err = outcome.failed.error;
      return {
        ok: false,
        steps: outcome.steps,
        error: {
          code: err.code,
          exitCode: err.exitCode,
          message: `finalize failed at ${outcome.failed.step}: ${err.message}`,
          hint: `${serving} still serves. Fix the cause and run \`bluegreen finalize\` again.`,
        },
      };
    }
    state = advance(state, 'finalize-finished', at(), deps.who, {
      blueFrozen: serving === 'green',
      forward: undefined,
      reverse: undefined,
      ...(retiredGone ? { lost: { side: retired, at: at(), why: retiredGone } } : {}),
    });
    await deps.store.save(state);
    return { ok: true, steps: outcome.steps };
  });
}
