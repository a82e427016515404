/**
 * `bluegreen abort`: gives up the cutover before the switchover (or after an interrupted one) and
 * puts blue back in charge: PgBouncer resumed, pointer on blue, blue open for writes, green guarded.
 * Green's copy stays for inspection; the next clone re-creates it. The steps are operations in
 * src/operations/abort/; what the clone made is undone from the clone's journal, by its own undos.
 */
import { advance } from '../core/state.js';
import type { Report } from '../core/report.js';
import { controlled, type Deps, loadState } from './context.js';
import { failedAt } from '../operations/runner.js';
import { plannedSteps, runOperations } from '../operations/operation.js';
import type { AbortCtx } from '../operations/abort/context.js';
import { abortPlan } from '../operations/abort/plan.js';
import { openBlue } from '../operations/abort/open-blue.js';

/** Blue did not answer: green's side is done, blue's waits for an abort once it answers. */
async function abortedWithoutBlue(deps: Deps, blueGone: string, steps: Report['steps']): Promise<Report> {
  const at = () => deps.clock.now().toISOString();
  // Green's side is done; blue keeps our slot (it retains WAL) and, in freeze mode, its freeze until this runs again.
  const state = await loadState(deps);
  const lastError = `aborted without blue (${blueGone}): run \`bluegreen abort\` again when blue answers`;
  await deps.store.save(advance(state, 'abort', at(), deps.who, { serving: 'blue', lastError }));
  const frozen = state.mode === 'freeze' ? ' (it was frozen for the clone)' : '';
  return {
    ok: false,
    steps,
    error: {
      code: 'partial',
      exitCode: 1,
      message:
        `aborted without blue: blue is unreachable (${blueGone}); ` +
        "green's side is undone (its subscription dropped, green guarded) and the pointer serves blue",
      hint:
        `When blue answers, run \`bluegreen abort\` again: it opens blue for writes${frozen} ` +
        "and drops this cutover's slot there, which keeps WAL on blue until then.",
    },
  };
}

export async function _abort(deps: Deps, options: { dryRun?: boolean } = {}): Promise<Report> {
  const { config } = deps;
  const at = () => deps.clock.now().toISOString();
  const state = await loadState(deps);
  advance(state, 'abort', at(), deps.who);
  const ctx: AbortCtx = { deps, state };
  if (options.dryRun) return { ok: true, steps: plannedSteps(abortPlan(), ctx) };
  return controlled(deps, 'abort', async () => {
    const outcome = await runOperations(
      abortPlan(),
      { ...ctx, state: await loadState(deps) },
      {
        progress: deps.progress,
        secrets: config.secrets,
        undoOnFailure: false,
      },
    );
    if (outcome.failed) {
      const hint = 'Fix the cause and run `bluegreen abort` again; it is safe to repeat.';
      return { ok: false, steps: outcome.steps, error: failedAt('abort', outcome.failed, hint) };
    }
    const blueGone = outcome.outputs.of(openBlue)?.blueGone;
    if (blueGone) return abortedWithoutBlue(deps, blueGone, outcome.steps);
    await deps.store.save(
      advance(await loadState(deps), 'abort', at(), deps.who, {
        serving: 'blue',
        blueFrozen: false,
        forward: undefined,
        reverse: undefined,
      }),
    );
    return { ok: true, steps: outcome.steps };
  });
}
