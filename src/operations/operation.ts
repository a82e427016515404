/**
 * Operations as data: each step of a command's runbook is an operation in a file of its own, its `run`
 * and its `undo` side by side (pgroll's op_*.go pairs Start with Rollback). A step's input is built
 * from earlier steps' declared outputs, never from variables shared in a closure; the runner records
 * every output durably (the run's journal), so `resume` and `abort` undo from that record, not from
 * the memory of a controller that may be gone.
 */
import { BlueGreenError } from '../core/errors.js';
import { redact } from '../core/redact.js';
import type { StepResult } from '../core/report.js';
import { type PlanProgress, type PlanStep, type Budget, type PlanOutcome, planOnly, runPlan, silent, undoSteps } from './runner.js';

/** What a step returns: its output (recorded, JSON), a line for the operator, or why it had nothing to do. */
export type Done<Out> =
  { readonly output: Out; readonly detail?: string; readonly skipped?: undefined } | { readonly skipped: string; readonly output?: Out };

/** A step's line for the operator, when it has no output for later steps. */
export function noted(detail?: string | void): { readonly output: undefined; readonly detail?: string } {
  return { output: undefined, detail: detail || undefined };
}

/** A step that had nothing to do, and why. */
export function skipped(why: string): Done<never> {
  return { skipped: why };
}

export interface Operation<Ctx, In, Out> {
  /** The step's name in reports and the journal; a function when it names a side (`freeze-blue`). */
  readonly name: string | ((ctx: Ctx) => string);
  /** What the step does, shown while it runs. */
  title(ctx: Ctx): string;
  run(ctx: Ctx, input: In): Promise<Done<Out>>;
  /**
   * Puts back what `run` changed. Idempotent: it is also called for a step whose `run` failed halfway
   * (then `output` is undefined) and by `resume`/`abort` from the journal.
   */
  undo?(ctx: Ctx, output: Out | undefined): Promise<void>;
  /** What the undo did, as the operator reads it (`blue reopened`). */
  undone?(ctx: Ctx): string;
  /** Consecutive steps with the same label run at once (on connections of their own). */
  readonly together?: string;
  /** Outside the budget (before it starts, or after the point of no return). */
  readonly unbudgeted?: boolean;
  /** Once started, clients may have written to the new side: a failure from here is not undone. */
  readonly pointOfNoReturn?: boolean;
  /** The step words its own progress lines (see the runner's `ownProgress`). */
  readonly ownProgress?: boolean;
  /** The report's line for a failure, when the error's first line is not the one to show. */
  failureDetail?(error: BlueGreenError): string | undefined;
  /**
   * Its journal entries are deferred: written with the next step's that is not, or when the plan ends. For a
   * step while clients are held (inside a pause), where an fsync on a busy disk lengthens every client's wait.
   * A controller killed right after it may leave its entry unwritten, so its undo must work without its output.
   */
  readonly journalBehind?: boolean;
  /** What of the output the journal keeps (default: all of it), for an output large and needed only in memory. */
  journalOutput?(output: Out): unknown;
}

// `any`: a plan lists operations with different inputs and outputs; each step's own types hold inside it.
type AnyOperation<Ctx> = Operation<Ctx, any, any>;

/** One line of a plan: an operation and how its input is made from earlier outputs. */
export interface Planned<Ctx> {
  readonly op: AnyOperation<Ctx>;
  readonly input: (outputs: Outputs<Ctx>) => unknown;
}

export function step<Ctx, Out>(op: Operation<Ctx, void, Out>): Planned<Ctx>;
export function step<Ctx, In, Out>(op: Operation<Ctx, In, Out>, input: (outputs: Outputs<Ctx>) => In): Planned<Ctx>;
export function step<Ctx, In, Out>(op: Operation<Ctx, In, Out>, input?: (outputs: Outputs<Ctx>) => In): Planned<Ctx> {
  return { op, input: input ?? (() => undefined) };
}

export function nameOf<Ctx>(op: AnyOperation<Ctx>, ctx: Ctx): string {
  return typeof op.name === 'function' ? op.name(ctx) : op.name;
}

/** The outputs recorded so far, read by the operation that made them. */
export class Outputs<Ctx> {
  constructor(
    private readonly ctx: Ctx,
    readonly values: Map<string, unknown> = new Map(),
  ) {}

  of<Out>(op: Operation<Ctx, never, Out> | AnyOperation<Ctx>): Out | undefined {
    return this.values.get(nameOf(op, this.ctx)) as Out | undefined;
  }

  /** An output a later step cannot do without: its absence is a bug in the plan's order, said plainly. */
  need<Out>(op: Operation<Ctx, never, Out> | AnyOperation<Ctx>): Out {
    const name = nameOf(op, this.ctx);
    if (!this.values.has(name)) throw new BlueGreenError(`step ${name} has no recorded output: the plan runs a step before what it needs`);
    return this.values.get(name) as Out;
  }
}

/** A step as the journal keeps it. */
export interface JournalStep {
  readonly name: string;
  readonly status: 'running' | 'ok' | 'skipped' | 'failed';
  readonly output?: unknown;
  readonly detail?: string;
}

/** The durable record of one run of a command's plan: what started, what finished, with what output. */
export interface RunRecord {
  readonly command: string;
  readonly cutover: string;
  readonly startedAt: string;
  readonly steps: ReadonlyArray<JournalStep>;
}

/** Where the runner writes the record after every step (a file in the state folder, written atomically). */
export interface RunJournal {
  write(record: RunRecord): Promise<void>;
}

export interface OperationsOptions {
  readonly progress: PlanProgress;
  readonly secrets: ReadonlyArray<string>;
  readonly budget?: Budget;
  readonly undoOnFailure?: boolean;
  /** Every undo is tried, whatever fails: for a command that never finishes forward (the clone). */
  readonly undoAll?: boolean;
  /**
   * Lets go of the live resources the steps share through the context (a connection holding a
   * snapshot, work still running in the background): before the first undo, and once the plan ends.
   */
  readonly settle?: () => Promise<void>;
  /** Records every step's start and outcome durably; `resume`/`abort` read it. */
  readonly journal?: {
    readonly sink: RunJournal;
    readonly command: string;
    readonly cutover: string;
    readonly startedAt: string;
    /** Steps an earlier part of the same run recorded (a run whose later part runs inside a scoped resource, such as a lock). */
    readonly earlier?: ReadonlyArray<JournalStep>;
  };
}

/** The plan as the runner's steps, each recording its output in `outputs` and (when given) the journal. */
export function planSteps<Ctx>(
  plan: ReadonlyArray<Planned<Ctx>>,
  ctx: Ctx,
  outputs: Outputs<Ctx>,
  options: OperationsOptions,
  entries: Map<string, JournalStep> = new Map((options.journal?.earlier ?? []).map((s) => [s.name, s])),
): PlanStep[] {
  const journal = options.journal;
  let writes = Promise.resolve();
  const note = (entry: JournalStep, deferred = false): Promise<void> => {
    entries.set(entry.name, entry);
    if (!journal || deferred) return Promise.resolve();
    const record: RunRecord = {
      command: journal.command,
      cutover: journal.cutover,
      startedAt: journal.startedAt,
      steps: [...entries.values()],
    };
    // Steps run together finish in any order: writes go one after the other, each the whole record so far.
    writes = writes.then(() => journal.sink.write(record));
    return writes;
  };
  return plan.map(({ op, input }) => {
    const name = nameOf(op, ctx);
    const record = (entry: JournalStep) => note(entry, op.journalBehind);
    return {
      name,
      title: op.title(ctx),
      together: op.together,
      unbudgeted: op.unbudgeted,
      pointOfNoReturn: op.pointOfNoReturn,
      undone: op.undone?.(ctx),
      ownProgress: op.ownProgress,
      failureDetail: op.failureDetail && ((error: BlueGreenError) => op.failureDetail!(error)),
      run: async () => {
        await record({ name, status: 'running' });
        let done: Done<unknown>;
        try {
          done = await op.run(ctx, input(outputs));
        } catch (error) {
          const own = op.failureDetail && error instanceof BlueGreenError ? op.failureDetail(error) : undefined;
          const why = own ?? String((error as Error).message).split('\n')[0];
          await record({ name, status: 'failed', detail: redact(why, options.secrets) });
          throw error;
        }
        if (done.output !== undefined) outputs.values.set(name, done.output);
        await record({
          name,
          status: done.skipped !== undefined ? 'skipped' : 'ok',
          output: done.output !== undefined && op.journalOutput ? op.journalOutput(done.output) : done.output,
          detail: done.skipped ?? done.detail,
        });
        return done.skipped !== undefined ? { skipped: done.skipped } : done.detail;
      },
      undo: op.undo && (() => op.undo!(ctx, outputs.of(op))),
    } satisfies PlanStep;
  });
}

/** The plan `--dry-run` prints: every step by its name and title, nothing run. */
export function plannedSteps<Ctx>(plan: ReadonlyArray<Planned<Ctx>>, ctx: Ctx): StepResult[] {
  return planOnly(plan.map(({ op }) => ({ name: nameOf(op, ctx), title: op.title(ctx) })));
}

/** Runs a plan of operations: the runner's timing, budget and reverse undo, with outputs recorded. */
export async function runOperations<Ctx>(
  plan: ReadonlyArray<Planned<Ctx>>,
  ctx: Ctx,
  options: OperationsOptions,
  outputs: Outputs<Ctx> = new Outputs(ctx),
): Promise<PlanOutcome & { readonly outputs: Outputs<Ctx>; readonly journaled: ReadonlyArray<JournalStep> }> {
  const entries = new Map((options.journal?.earlier ?? []).map((s) => [s.name, s]));
  try {
    const outcome = await runPlan(planSteps(plan, ctx, outputs, options, entries), { ...options, beforeUndo: options.settle });
    // What steps run while clients were held deferred is written now that they are not (every other write was waited for).
    const { journal } = options;
    if (journal && plan.some((p) => p.op.journalBehind)) {
      const { command, cutover, startedAt } = journal;
      await journal.sink.write({ command, cutover, startedAt, steps: [...entries.values()] });
    }
    return { ...outcome, outputs, journaled: [...entries.values()] };
  } finally {
    await options.settle?.();
  }
}

/**
 * Undoes, in reverse, every step a journal says started (and was not skipped), each with the output it
 * recorded: how `resume` and `abort` put back what a run a controller no longer remembers had done.
 */
export async function undoRecorded<Ctx>(
  plan: ReadonlyArray<Planned<Ctx>>,
  ctx: Ctx,
  record: RunRecord,
  secrets: ReadonlyArray<string>,
  options: { readonly keepGoing?: boolean } = {},
): Promise<Awaited<ReturnType<typeof undoSteps>>> {
  const outputs = outputsOf(record, ctx);
  const started = new Set(record.steps.filter((s) => s.status !== 'skipped').map((s) => s.name));
  const steps = planSteps(plan, ctx, outputs, { progress: silent, secrets }).filter((s) => started.has(s.name));
  return undoSteps(steps, secrets, options);
}

/** The outputs a journal recorded, to finish or undo a run from. */
export function outputsOf<Ctx>(record: RunRecord, ctx: Ctx): Outputs<Ctx> {
  return new Outputs(ctx, new Map(record.steps.filter((s) => s.output !== undefined).map((s) => [s.name, s.output])));
}
