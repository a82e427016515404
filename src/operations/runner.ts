/**
 * A plan: an ordered list of small steps, each with its `run` and its `undo` side by side (the way
 * pgroll pairs an operation's Start with its Rollback). One runner times every step, runs the steps
 * marked with the same `together` label at once, enforces the budget, and on a failure undoes what
 * ran, in reverse. Reading a plan top to bottom is reading the runbook.
 */
import { BlueGreenError, describeError, TimeoutError } from '../core/errors.js';
import { redact } from '../core/redact.js';
import type { Report, StepResult } from '../core/report.js';

export function asBlueGreenError(error: unknown, secrets: ReadonlyArray<string>): BlueGreenError {
  if (error instanceof BlueGreenError) return error;
  return new BlueGreenError(redact(describeError(error), secrets), { cause: error });
}

export type StepOutcome = string | void | { skipped: string };

export interface PlanStep {
  readonly name: string;
  /** What the step does, shown while it runs. */
  readonly title: string;
  readonly run: () => Promise<StepOutcome>;
  /**
   * Puts things back as they were before `run`. Idempotent (resume calls it without knowing how far
   * `run` got), so it is also called for a step whose `run` failed halfway.
   */
  readonly undo?: () => Promise<void>;
  /** What the undo did, as the operator reads it (`blue reopened`); default `<name> undone`. */
  readonly undone?: string;
  /** Consecutive steps with the same label run concurrently (on connections of their own). */
  readonly together?: string;
  /** The step is outside the budget (before it starts, or after the point of no return). */
  readonly unbudgeted?: boolean;
  /**
   * Once this step has started, clients may have written to the new side (PgBouncer's RESUME): a
   * failure from here on is not undone; the plan stops and says what the operator must decide.
   */
  readonly pointOfNoReturn?: boolean;
  /**
   * The step words its own progress lines (migrate's `applied 0001_x.sql (12 ms)`, a runbook older than
   * the runner): the runner still times it and records its outcome, and prints nothing for it.
   */
  readonly ownProgress?: boolean;
  /** The report's line for a failure, when the error's first line is not the one to show (a migration's failing statement). */
  readonly failureDetail?: (error: BlueGreenError) => string | undefined;
}

export interface PlanProgress {
  start(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
}

export interface Budget {
  /** performance.now() by which every budgeted step must be done. */
  deadline(): number;
  readonly timeoutMs: number;
  /** Called once when the budget runs out mid-step (it cancels our sessions' running queries). */
  onTimeout(): Promise<void>;
}

export interface PlanOutcome {
  readonly steps: StepResult[];
  readonly failed?: { readonly step: string; readonly error: BlueGreenError };
  /** One line per undo tried: `what: done` or `what: FAILED (why)`. */
  readonly undone: string[];
  /** The failure came at or after the point of no return: nothing was undone. */
  readonly pastNoReturn?: boolean;
  /** An undo failed: these steps were not undone (in undo order). */
  readonly notUndone?: ReadonlyArray<PlanStep>;
  /** The step whose undo failed. */
  readonly undoFailed?: PlanStep;
  /** Every undo that failed, with its error (with `undoAll`, the chain went on past each). */
  readonly undoErrors?: ReadonlyArray<UndoError>;
}

/** An undo that failed: the step's name and why. */
export interface UndoError {
  readonly step: string;
  readonly error: Error;
}

/** Undo lines that failed: when there is one, "nothing was lost" cannot be said. */
export function failedUndos(undone: ReadonlyArray<string>): string[] {
  return undone.filter((line) => / FAILED \(/.test(line));
}

/** Races a step against what is left of the budget; on timeout, `onTimeout` runs before the step is reported failed. */
export function withinBudget<T>(promise: Promise<T>, budget: Budget, what: string): Promise<T> {
  const left = budget.deadline() - performance.now();
  const timeout = new TimeoutError(`switchover.timeoutMs (${budget.timeoutMs} ms) ran out during ${what}`, {
    hint:
      'Find what held the step (a lock or an open transaction on the subscriber, a long transaction) and retry, ' +
      'or raise switchover.timeoutMs.',
  });
  if (left <= 0) {
    promise.catch(() => undefined);
    return Promise.reject(new TimeoutError(`switchover.timeoutMs (${budget.timeoutMs} ms) ran out before ${what}`, { hint: timeout.hint }));
  }
  let timer: NodeJS.Timeout;
  let timedOut = false;
  return Promise.race([
    // Once the budget is gone, the step's own outcome (such as the cancellation we caused) is not the story.
    promise.then(
      (value) => (timedOut ? Promise.reject(timeout) : value),
      (error: unknown) => Promise.reject(timedOut ? timeout : error),
    ),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        void budget.onTimeout().finally(() => reject(timeout));
      }, left);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Runs undos in reverse. A cancel left by a budget timeout gets one retry. The first undo that fails
 * stops the chain: what is left undone (`remaining`, in the order it would be undone) may be what
 * finishing forward needs, and which way to go is decided from what is true, not guessed here.
 * With `keepGoing` (a command that never finishes forward, such as the clone) every undo is tried and
 * each failure is kept in `errors`: one side that does not answer must not keep the other's cleanup.
 */
export async function undoSteps(
  steps: ReadonlyArray<PlanStep>,
  secrets: ReadonlyArray<string>,
  options: { readonly keepGoing?: boolean } = {},
): Promise<{ lines: string[]; remaining: PlanStep[]; failed?: PlanStep; errors: UndoError[] }> {
  const lines: string[] = [];
  const errors: UndoError[] = [];
  const queue = [...steps].reverse();
  while (queue.length) {
    const step = queue.shift()!;
    if (!step.undo) continue;
    for (let attempt = 0; ; attempt++) {
      try {
        await step.undo();
        lines.push(`${step.undone ?? `${step.name} undone`}: done`);
        break;
      } catch (error) {
        // A budget timeout cancels what our sessions run; a session between queries gets the cancel on its next one.
        if (attempt === 0 && /canceling statement due to user request/.test((error as Error).message)) continue;
        lines.push(`${step.undone ?? `${step.name} undone`}: FAILED (${redact((error as Error).message.split('\n')[0], secrets)})`);
        errors.push({ step: step.name, error: error as Error });
        if (!options.keepGoing) return { lines, remaining: queue, failed: step, errors };
        break;
      }
    }
  }
  return { lines, remaining: [], failed: errors.length ? steps.find((s) => s.name === errors[0].step) : undefined, errors };
}

/** Progress nobody reads: undos run for resume, dry runs. */
export const silent: PlanProgress = { start: () => undefined, succeed: () => undefined, fail: () => undefined };

/**
 * Runs a plan: groups of `together` steps at once, each timed and (unless unbudgeted) raced against the
 * budget. On the first failure the rest is skipped and every step that started is undone in reverse.
 */
export async function runPlan(
  steps: ReadonlyArray<PlanStep>,
  options: {
    progress: PlanProgress;
    secrets: ReadonlyArray<string>;
    budget?: Budget;
    undoOnFailure?: boolean;
    /** Every undo is tried, whatever fails (see undoSteps' keepGoing). */
    undoAll?: boolean;
    /** Called before the first undo: live resources the steps share (a connection holding a snapshot) are let go first. */
    beforeUndo?: () => Promise<void>;
  },
): Promise<PlanOutcome> {
  const results = new Map<string, StepResult>();
  const started: PlanStep[] = [];
  let failed: PlanOutcome['failed'];
  for (let i = 0; i < steps.length && !failed;) {
    // A group: this step and the consecutive ones marked with the same label.
    let end = i + 1;
    while (steps[i].together && end < steps.length && steps[end].together === steps[i].together) end++;
    const group = steps.slice(i, end);
    i = end;
    started.push(...group);
    const outcomes = await Promise.all(
      group.map(async (step) => {
        const progress = step.ownProgress ? silent : options.progress;
        progress.start(step.title);
        const start = performance.now();
        try {
          const run = step.run();
          const out =
            options.budget && !step.unbudgeted
              ? await withinBudget(run, options.budget, step.title.charAt(0).toLowerCase() + step.title.slice(1))
              : await run;
          const ms = Math.round(performance.now() - start);
          if (out && typeof out === 'object') {
            results.set(step.name, { name: step.name, status: 'skipped', ms, detail: out.skipped });
            progress.succeed(`${step.title}: skipped (${out.skipped})`);
          } else {
            results.set(step.name, { name: step.name, status: 'ok', ms, detail: out || undefined });
            progress.succeed(`${step.title}${out ? `: ${out}` : ''} (${ms} ms)`);
          }
          return undefined;
        } catch (error) {
          const ms = Math.round(performance.now() - start);
          const err = asBlueGreenError(error, options.secrets);
          const detail = step.failureDetail ? step.failureDetail(err) : err.message.split('\n')[0];
          results.set(step.name, { name: step.name, status: 'failed', ms, detail });
          progress.fail(`${step.title}: failed after ${ms} ms`);
          return { step: step.name, error: err };
        }
      }),
    );
    failed = outcomes.find((o) => o !== undefined);
  }
  const ordered = steps.map((s) => results.get(s.name) ?? { name: s.name, status: 'skipped' as const, ms: 0, detail: 'not reached' });
  if (!failed) return { steps: ordered, undone: [] };
  if (started.some((s) => s.pointOfNoReturn)) return { steps: ordered, failed, undone: [], pastNoReturn: true };
  if (options.undoOnFailure === false) return { steps: ordered, failed, undone: [] };
  await options.beforeUndo?.();
  const { lines, remaining, failed: undoFailed, errors } = await undoSteps(started, options.secrets, { keepGoing: options.undoAll });
  return {
    steps: ordered,
    failed,
    undone: lines,
    ...(remaining.length ? { notUndone: remaining } : {}),
    ...(undoFailed ? { undoFailed } : {}),
    ...(errors.length ? { undoErrors: errors } : {}),
  };
}

/** A step with no undo: what commands that stop at the first failure run (their recovery is their own). */
export type Step = Pick<PlanStep, 'name' | 'title' | 'run'>;

export interface StepsOutcome {
  readonly steps: StepResult[];
  readonly failed?: { readonly step: string; readonly error: BlueGreenError };
}

/** Runs steps in order, stopping at the first failure: a plan with no undo and no budget. */
export async function runSteps(steps: ReadonlyArray<Step>, progress: PlanProgress, secrets: ReadonlyArray<string>): Promise<StepsOutcome> {
  const { steps: results, failed } = await runPlan(steps, { progress, secrets, undoOnFailure: false });
  return { steps: results, failed };
}

/** The plan `--dry-run` prints: every step, nothing run. */
export function planOnly(steps: ReadonlyArray<Pick<PlanStep, 'name' | 'title'>>): StepResult[] {
  return steps.map((s) => ({ name: s.name, status: 'skipped', ms: 0, detail: `planned: ${s.title}` }));
}

/** A command's failure as its report's error: `<command> failed at <step>: <why>`, and what to do next. */
export function failedAt(
  command: string,
  failed: { readonly step: string; readonly error: BlueGreenError },
  hint: string,
  exitCode = failed.error.exitCode,
): NonNullable<Report['error']> {
  return { code: failed.error.code, exitCode, message: `${command} failed at ${failed.step}: ${failed.error.message}`, hint };
}
