/**
 * Runs named steps in order, timing each, stopping at the first failure: the StepResult list every
 * multi-step command reports. The caller decides what undoing a failure means.
 */
import { BlueGreenError, describeError } from '../core/errors.js';
import { redact } from '../core/redact.js';
import type { StepResult } from '../core/report.js';
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

export function asBlueGreenError(error: unknown, secrets: ReadonlyArray<string>): BlueGreenError {
  if (error instanceof BlueGreenError) return error;
  return new BlueGreenError(redact(describeError(error), secrets), { cause: error });
}

export async function runSteps(steps: ReadonlyArray<Step>, progress: Progress, secrets: ReadonlyArray<string>): Promise<StepsOutcome> {
  const results: StepResult[] = [];
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    progress.start(step.title);
    const start = performance.now();
    try {
      const out = await step.run();
      const ms = Math.round(performance.now() - start);
      if (out && typeof out === 'object') {
        results.push({ name: step.name, status: 'skipped', ms, detail: out.skipped });
        progress.succeed(`${step.title}: skipped (${out.skipped})`);
      } else {
        results.push({ name: step.name, status: 'ok', ms, detail: out || undefined });
        progress.succeed(`${step.title}${out ? `: ${out}` : ''} (${ms} ms)`);
      }
    } catch (error) {
      const ms = Math.round(performance.now() - start);
      const err = asBlueGreenError(error, secrets);
      results.push({ name: step.name, status: 'failed', ms, detail: err.message.split('\n')[0] });
      progress.fail(`${step.title}: failed after ${ms} ms`);
      for (const rest of steps.slice(i + 1)) results.push({ name: rest.name, status: 'skipped', ms: 0, detail: 'not reached' });
      return { steps: results, failed: { step: step.name, error: err } };
    }
  }
  return { steps: results };
}

/** The plan `--dry-run` prints: every step, nothing run. */
export function planOnly(steps: ReadonlyArray<Pick<Step, 'name' | 'title'>>): StepResult[] {
  return steps.map((s) => ({ name: s.name, status: 'skipped', ms: 0, detail: `planned: ${s.title}` }));
}
