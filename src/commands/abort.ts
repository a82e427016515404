/**
 * `bluegreen abort`: gives up the cutover before the switchover (or after an interrupted one) and
 * puts blue back in charge: PgBouncer resumed, pointer on blue, blue open for writes, green guarded.
 * Green's copy stays for inspection; the next clone re-creates it.
 */
import { advance } from '../core/state.js';
import type { Report } from '../core/report.js';
import { withClient } from '../adapters/pg.js';
import { sideServedBy, sideTarget } from '../adapters/pointer.js';
import { freezeWrites, unfreezeWrites } from '../adapters/write-guard.js';
import { conn, controlled, type Deps, loadState } from './context.js';
import { dropAllReplication } from './cleanup.js';
import { planOnly, runSteps, type Step } from '../operations/runner.js';
import { sideUnreachable } from './rollback-without-green.js';

export async function _abort(deps: Deps, options: { dryRun?: boolean } = {}): Promise<Report> {
  const { config, pointer } = deps;
  const at = () => deps.clock.now().toISOString();
  advance(await loadState(deps), 'abort', at(), deps.who);
  let blueGone: string | undefined;
  const steps: Step[] = [
    {
      name: 'resume',
      title: 'Making sure PgBouncer is not paused',
      run: async () => (pointer.canPause ? void (await pointer.resume()) : { skipped: 'file pointer' }),
    },
    {
      name: 'pointer-to-blue',
      title: 'Making sure the pointer serves blue',
      run: async () => {
        if (sideServedBy(config, await pointer.current()) === 'blue') return 'already on blue';
        await pointer.flip(sideTarget(config, 'blue'), 'blue');
        return 'pointed back at blue';
      },
    },
    {
      name: 'open-blue',
      title: 'Opening blue for writes',
      run: async () => {
        // Blue lost before the switchover: what can be undone on green and the pointer is; blue's part waits for it.
        blueGone = await sideUnreachable(deps, 'blue');
        if (blueGone) return { skipped: `blue is unreachable (${blueGone})` };
        await withClient(config.blue, unfreezeWrites, conn(deps, 'blue', 'abort'));
      },
    },
    {
      name: 'drop-replication',
      title: 'Dropping the replication slots, publications and subscriptions of this cutover',
      run: async () => {
        const dropped = await dropAllReplication(deps, blueGone ? ['green'] : undefined);
        return dropped ? `${dropped} dropped${blueGone ? " on green (blue's slot and publication wait for it)" : ''}` : { skipped: 'none' };
      },
    },
    {
      name: 'guard-green',
      title: 'Guarding green against writes',
      run: async () => {
        try {
          await withClient(config.green, (c) => freezeWrites(c, 'cutover aborted'), conn(deps, 'green', 'abort'));
        } catch (error) {
          // Green's database may not exist (abort right after a failed clone): nothing to guard.
          if (!/does not exist/.test((error as Error).message)) throw error;
          return { skipped: "green's database does not exist" };
        }
      },
    },
  ];
  if (options.dryRun) return { ok: true, steps: planOnly(steps) };
  return controlled(deps, 'abort', async () => {
    const outcome = await runSteps(steps, deps.progress, config.secrets);
    if (outcome.failed) {
      const err = outcome.failed.error;
      return {
        ok: false,
        steps: outcome.steps,
        error: {
          code: err.code,
          exitCode: err.exitCode,
          message: `abort failed at ${outcome.failed.step}: ${err.message}`,
          hint: 'Fix the cause and run `bluegreen abort` again; it is safe to repeat.',
        },
      };
    }
    if (blueGone) {
      // Green's side is done; blue keeps our slot (it retains WAL) and, in freeze mode, its freeze until this runs again.
      const state = await loadState(deps);
      const lastError = `aborted without blue (${blueGone}): run \`bluegreen abort\` again when blue answers`;
      await deps.store.save(advance(state, 'abort', at(), deps.who, { serving: 'blue', lastError }));
      return {
        ok: false,
        steps: outcome.steps,
        error: {
          code: 'partial',
          exitCode: 1,
          message:
            `aborted without blue: blue is unreachable (${blueGone}); ` +
            "green's side is undone (its subscription dropped, green guarded) and the pointer serves blue",
          hint:
            `When blue answers, run \`bluegreen abort\` again: it opens blue for writes${state.mode === 'freeze' ? ' (it was frozen for the clone)' : ''} ` +
            "and drops this cutover's slot there, which keeps WAL on blue until then.",
        },
      };
    }
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
