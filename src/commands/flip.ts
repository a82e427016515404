/**
 * The flip: switchover (blue → green) and rollback (green → blue), one protocol in two directions
 * and both modes. The runbook is src/operations/flip/plan.ts; here it is run: the record, the controller
 * lock, the connections opened before anything is paused, the budget (switchover.timeoutMs, from the
 * guardrails to RESUME), the journal of every step's output, and the report (flip-finish.ts past RESUME,
 * flip-failure.ts on a failure before it).
 */
import type { BlockerAction } from '../core/blockers.js';
import type { StepResult } from '../core/report.js';
import { BlueGreenError } from '../core/errors.js';
import { unfinishedReseedRefusal } from '../core/reseed.js';
import { advance, type CutoverState, type ReplicationLink } from '../core/state.js';
import { cancelRunningQuery, type Client } from '../adapters/pg.js';
import { replicationNames } from '../adapters/replication.js';
import { fileJournal } from '../adapters/run-journal.js';
import { controlled, type Deps, loadState } from './context.js';
import type { FlipContext, FlipDirection, FlipSessions } from '../operations/flip/context.js';
import { flipPlan } from '../operations/flip/plan.js';
import { withSessions } from './flip-sessions.js';
import type { Budget } from '../operations/runner.js';
import { plannedSteps, runOperations } from '../operations/operation.js';
import { windowStatus } from './status.js';
import { describeVerdict } from '../core/window-verdict.js';
import { ExitCode } from '../core/errors.js';
import { lostSlotHint } from '../core/lost-slot.js';
import { greenUnreachable, lossStatement, rollbackWithoutGreen } from './rollback-without-green.js';
import { finishForward, type FlipResult, type FlipRun, type LostWrites } from './flip-finish.js';
import { flipFailed } from './flip-failure.js';

export type { FlipResult, LostWrites } from './flip-finish.js';

interface FlipOptions {
  dryRun?: boolean;
  acceptDataLoss?: boolean;
  blockers?: BlockerAction;
}

export async function _flip(deps: Deps, flip: FlipDirection, options: FlipOptions): Promise<FlipResult & { lostWrites?: LostWrites[] }> {
  const { config, pointer } = deps;
  const replicate = config.mode === 'replicate';
  const at = () => deps.clock.now().toISOString();
  const started = flip.direction === 'switchover' ? 'switchover-started' : 'rollback-started';
  const initial = await loadState(deps);
  // Blue emptied by a re-seed cut short: refused before anything (sync-schema included) touches a side.
  const reseeding = flip.to === 'blue' && !options.dryRun ? unfinishedReseedRefusal(initial) : undefined;
  if (reseeding) throw reseeding;
  // Green lost in the window (or lost during a rollback that then stopped): the way back needs only blue.
  if (flip.direction === 'rollback' && !options.dryRun && (initial.phase === 'switched-over' || initial.phase === 'rolling-back')) {
    const why = await greenUnreachable(deps);
    if (why)
      return controlled(deps, 'rollback', async () => rollbackWithoutGreen(deps, await loadState(deps), why, !!options.acceptDataLoss));
    // A switchover that gave up reverse replication (declared, accepted): blue never got green's writes.
    if (replicate && initial.phase === 'switched-over' && !initial.reverse) {
      return controlled(deps, 'rollback', async () =>
        rollbackWithoutGreen(deps, await loadState(deps), undefined, !!options.acceptDataLoss),
      );
    }
  }
  advance(initial, started, at(), deps.who); // throws with advice when the phase forbids it
  const next = replicationNames(initial.id, flip.direction === 'switchover' ? 'rev' : 'fwd');
  if (options.dryRun) return dryRun(deps, flip, initial, next);

  return controlled(deps, flip.direction, async () => {
    // The pooler's admin connections first: if PgBouncer is unreachable, nothing is recorded or frozen.
    await pointer.open().catch((error: Error) => {
      throw new BlueGreenError(`${flip.direction} not started: ${error.message.split('\n')[0]}`, {
        hint: `Nothing was changed: ${flip.from} still serves and nothing was paused or frozen. Bring the pooler back, then retry.`,
        cause: error,
      });
    });
    const state = advance(await loadState(deps), started, at(), deps.who);
    // A journal left by an earlier flip this way is not this one's: `resume` reads only what this run records.
    const journal = fileJournal(config.stateDir, state.id, flip.direction);
    journal.clear();
    await deps.store.save(state);
    try {
      return await withSessions(deps, flip, async (sessions, all) => {
        const budgeted = budgetFor(deps, all);
        const ctx: FlipContext = {
          deps,
          flip,
          state,
          sessions,
          next,
          acceptDataLoss: !!options.acceptDataLoss,
          blockers: options.blockers,
          startBudget: budgeted.start,
          deadline: budgeted.budget.deadline,
          live: {},
        };
        const { main, after } = flipPlan(ctx);
        const run: Omit<FlipRun, 'outputs' | 'recorded'> = {
          ctx,
          after,
          journal: { sink: journal, command: flip.direction, cutover: state.id, startedAt: at() },
          at,
        };
        const running = { progress: deps.progress, secrets: config.secrets, budget: budgeted.budget, journal: run.journal };
        const outcome = await runOperations(main, ctx, running);
        const done = { ...run, outputs: outcome.outputs, recorded: outcome.journaled };
        return outcome.failed ? flipFailed(done, { ...outcome, failed: outcome.failed }) : finishForward(done, outcome.steps);
      });
    } finally {
      await pointer.close();
    }
  });
}

/**
 * switchover.timeoutMs, from the guardrails to RESUME (statistics and the schema carry before them are not
 * part of the switch); when it runs out mid-step, every session's running query is cancelled.
 */
function budgetFor(deps: Deps, all: Array<{ url: string; client: Client }>): { budget: Budget; start: () => void } {
  const { config } = deps;
  let deadline = performance.now() + config.switchover.timeoutMs;
  return {
    budget: {
      deadline: () => deadline,
      timeoutMs: config.switchover.timeoutMs,
      onTimeout: async () => void (await Promise.all(all.map((s) => cancelRunningQuery(s.url, s.client, config.secrets)))),
    },
    start: () => void (deadline = performance.now() + config.switchover.timeoutMs),
  };
}

/** --dry-run: the verdict first (lossless, or what would be lost), then the plan's steps, none run. */
async function dryRun(deps: Deps, flip: FlipDirection, initial: CutoverState, next: ReplicationLink): Promise<FlipResult> {
  const replicate = deps.config.mode === 'replicate';
  // The plan's steps, not run: nothing touches a session until a step runs.
  const ctx: FlipContext = {
    deps,
    flip,
    state: initial,
    sessions: {} as FlipSessions,
    next,
    acceptDataLoss: false,
    startBudget: () => undefined,
    deadline: () => 0,
    live: {},
  };
  const { main, after } = flipPlan(ctx);
  // What the flip would carry and whether it would lose anything, read now (the same verdict status shows).
  const window = initial.serving === flip.from ? await windowStatus(deps, initial) : undefined;
  // A switchover that gave up reverse replication: its rollback gives up green's writes, whatever the schema.
  const noReverse = flip.direction === 'rollback' && replicate && initial.phase === 'switched-over' && !initial.reverse;
  const givenUp = noReverse ? `WOULD LOSE: ${lossStatement(deps, initial)}; refused unless --accept-data-loss` : undefined;
  const verdictText = givenUp ?? (window && describeVerdict(window));
  const verdict: StepResult[] = verdictText ? [{ name: 'verdict', status: 'skipped', ms: 0, detail: verdictText }] : [];
  const steps = [...verdict, ...plannedSteps([...main, ...after], ctx)];
  // A lost slot: the flip would be refused at its guardrails whatever is accepted, so the dry run says so by its exit too.
  if (window?.reason)
    return {
      ok: false,
      steps,
      serving: initial.serving,
      error: {
        code: 'blocked',
        exitCode: ExitCode.blocked,
        message: `the ${flip.direction} would be refused at its guardrails: it is no longer lossless (the verdict above says why)`,
        hint: lostSlotHint(flip),
      },
    };
  return { ok: true, steps, serving: initial.serving };
}
