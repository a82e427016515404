/**
 * Runs named steps in order, timing each, stopping at the first failure: the StepResult list every
 * multi-step command reports. The caller decides what undoing a failure means.
 */
import type { BlueGreenError } from '../core/errors.js';
import type { StepResult } from '../core/report.js';
import { runPlan } from './plan.js';
import type { Progress } from '../adapters/progress.js';

export interface Step {
  readonly name: string;
  /** What the step does, shown while it runs. */
  readonly title: string;
  /** Returns a one-line detail, or `{ skipped }` when there was nothing to do. */
  readonly run: () => Promise<string | void | { skipped: string }>;
}

export interface StepsOutcome {
  readonly steps: StepResult[];
  readonly failed?: { readonly step: string; readonly error: BlueGreenError };
}

/** A step's failure as our error (secrets removed): shared with the plan runner. */
export { asBlueGreenError } from './plan.js';

/** Runs steps in order, stopping at the first failure: a plan with no undo and no budget. */
export async function runSteps(steps: ReadonlyArray<Step>, progress: Progress, secrets: ReadonlyArray<string>): Promise<StepsOutcome> {
  const { steps: results, failed } = await runPlan(steps, { progress, secrets, undoOnFailure: false });
  return { steps: results, failed };
}

/** The plan `--dry-run` prints: every step, nothing run. */
export function planOnly(steps: ReadonlyArray<Pick<Step, 'name' | 'title'>>): StepResult[] {
  return steps.map((s) => ({ name: s.name, status: 'skipped', ms: 0, detail: `planned: ${s.title}` }));
}
