/**
 * `bluegreen resume`: after a controller died (SIGKILL, a lost SSH session), finish or cleanly abort
 * what it was doing, from the recorded phase and what is really true now (where the pointer sends
 * traffic, which replication objects exist). Safe to run at any time: with nothing in progress it
 * only makes sure PgBouncer is not left paused. A flip's own branch is flip-resume.ts.
 */
import { BlueGreenError } from '../core/errors.js';
import { IN_PROGRESS } from '../core/phases.js';
import { sameTargetAs } from '../core/pgbouncer-ini.js';
import { advance, type CutoverState, type Side } from '../core/state.js';
import { sideServedBy, sideTarget } from '../adapters/pointer.js';
import type { Step } from '../operations/runner.js';
import { dropAllReplication } from './cleanup.js';
import { dropScratchCopies } from '../adapters/scratch.js';
import { interruptedCloneSteps } from '../operations/clone/recorded.js';
import { controlled, type Deps, loadState } from './context.js';
import { finishAfterSteps, resumeFlip } from './flip-resume.js';
import { type ResumeResult, type Resuming, resumePgbouncer, runResume } from './resume-run.js';

export type { ResumeResult } from './resume-run.js';

export async function _resume(deps: Deps): Promise<ResumeResult> {
  return controlled(deps, 'resume', async () => {
    const state = await loadState(deps);
    const r: Resuming = { deps, state, servingNow: await servingNow(deps, state), at: () => deps.clock.now().toISOString() };
    if (!IN_PROGRESS.has(state.phase) && state.unfinishedFlip) return finishAfterSteps(r, state.unfinishedFlip);
    if (!IN_PROGRESS.has(state.phase)) return runResume(r, [resumePgbouncer(deps)], 'nothing-to-resume', (s) => s);
    if (state.phase === 'cloning') return resumeClone(r);
    if (state.phase === 'migrating') return resumeMigrate(r);
    if (state.phase === 'finalizing') return resumeFinalize(r);
    // A flip: the pointer says whether it got to the other side. The flip's own plan says how to finish or undo it.
    return resumeFlip(r);
  });
}

/**
 * Where the pointer sends traffic. A flip killed halfway through a fleet leaves instances disagreeing: the
 * pointer change did not complete, so every instance goes back to the side the record says serves.
 */
async function servingNow(deps: Deps, state: CutoverState): Promise<Side> {
  const { config, pointer } = deps;
  const all = await pointer.currentAll();
  const targets = all.flatMap((a) => (a.target ? [a.target] : []));
  if (targets.length === all.length && targets.some((t) => !sameTargetAs(t, targets[0])))
    await pointer.flip(sideTarget(config, state.serving), state.serving);
  const current = await pointer.current();
  const serving = sideServedBy(config, current);
  if (!serving) {
    throw new BlueGreenError(`the pointer sends traffic to ${current.host}:${current.port}/${current.database}, neither blue nor green`, {
      hint: 'Point it back at one of them by hand, then run `bluegreen resume` again.',
    });
  }
  return serving;
}

function resumeClone(r: Resuming): Promise<ResumeResult> {
  const { deps, state } = r;
  // The clone's own undo, from its journal: see src/operations/clone/recorded.ts.
  return runResume(r, interruptedCloneSteps(deps, state, resumePgbouncer(deps)), 'aborted', (s) =>
    advance(s, 'clone-failed', r.at(), deps.who, {
      blueFrozen: false,
      forward: undefined,
      lastError: 'clone interrupted; aborted by resume',
    }),
  );
}

function resumeMigrate(r: Resuming): Promise<ResumeResult> {
  const { deps } = r;
  const { config } = deps;
  // Each migration ran in its own transaction, recorded with it: the history on green is the truth.
  // A kill during the effect check leaves its scratch copy of green behind: dropped here.
  const dropScratch: Step = {
    name: 'drop-scratch',
    title: "Dropping the effect check's scratch copies of green",
    run: async () => {
      const n = await dropScratchCopies({ greenUrl: config.green, secrets: config.secrets });
      return n ? `${n} dropped` : { skipped: 'none left' };
    },
  };
  return runResume(r, [resumePgbouncer(deps), dropScratch], 'finished', (s) =>
    advance(s, 'migrate-finished', r.at(), deps.who, {
      lastError: 'migrate interrupted; each migration is all or nothing: run `bluegreen migrate` again for the rest',
    }),
  );
}

function resumeFinalize(r: Resuming): Promise<ResumeResult> {
  const { deps } = r;
  return runResume(
    r,
    [
      resumePgbouncer(deps),
      {
        name: 'drop-replication',
        title: 'Dropping every replication object of ours',
        run: async () => void (await dropAllReplication(deps)),
      },
    ],
    'finished',
    (s) => advance(s, 'finalize-finished', r.at(), deps.who, { forward: undefined, reverse: undefined }),
  );
}
