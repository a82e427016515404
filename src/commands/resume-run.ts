/**
 * What every branch of `bluegreen resume` shares: the result, the steps' runner (each step safe to repeat,
 * a failed one tried once more after a moment) and the step that makes sure PgBouncer is not left paused.
 */
import type { Report } from '../core/report.js';
import type { CutoverState, Side } from '../core/state.js';
import { failedAt, runSteps, type Step } from '../operations/runner.js';
import type { Deps } from './context.js';

export interface ResumeResult extends Report {
  readonly from: string;
  readonly outcome: 'nothing-to-resume' | 'finished' | 'aborted';
  readonly phase: string;
  readonly serving: Side;
}

/** A resume under way: the record as it found it and the side the pointer serves now. */
export interface Resuming {
  readonly deps: Deps;
  readonly state: CutoverState;
  readonly servingNow: Side;
  readonly at: () => string;
}

export function resumePgbouncer(deps: Deps): Step {
  return {
    name: 'resume-pgbouncer',
    title: 'Making sure PgBouncer is not paused',
    run: async () => (deps.pointer.canPause ? void (await deps.pointer.resume()) : { skipped: 'file pointer' }),
  };
}

/** Runs resume's steps, then records what `update` makes of the state; a failed step and the rest get one more try. */
export async function runResume(
  r: Resuming,
  steps: Step[],
  outcome: ResumeResult['outcome'],
  update: (s: CutoverState) => CutoverState,
): Promise<ResumeResult> {
  const { deps, servingNow } = r;
  const { config } = deps;
  const from = r.state.phase;
  let result = await runSteps(steps, deps.progress, config.secrets);
  if (result.failed) {
    // Every step here is safe to repeat: a moment later the failed one and the rest are tried once more
    // (a slot still held by a walsender that is exiting, a pooler still reloading after a killed controller).
    const at = steps.findIndex((st) => st.name === result.failed!.step);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const again = await runSteps(steps.slice(at), deps.progress, config.secrets);
    result = { steps: [...result.steps.slice(0, at), ...again.steps], failed: again.failed };
  }
  if (result.failed) {
    return {
      ok: false,
      from,
      outcome,
      phase: r.state.phase,
      serving: servingNow,
      steps: result.steps,
      error: failedAt('resume', result.failed, 'Fix the cause and run `bluegreen resume` again; it is safe to repeat.'),
    };
  }
  const state = update(r.state);
  await deps.store.save(state);
  return { ok: true, from, outcome, phase: state.phase, serving: servingNow, steps: result.steps };
}
