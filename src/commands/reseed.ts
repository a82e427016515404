/**
 * `bluegreen reseed`: rebuilds the direction that keeps the standby current after its slot lost the
 * WAL it needed (max_slot_wal_keep_size) or was dropped: the way back to a lossless rollback. Only in
 * the window (green → blue): blue's tables are a subset of green's, so copying green's rows in blue's
 * columns is what replication would have delivered.
 */
import { BlockedError } from '../core/errors.js';
import type { Report } from '../core/report.js';
import type { Side } from '../core/state.js';
import { type Client, withClient } from '../adapters/pg.js';
import { fileJournal } from '../adapters/run-journal.js';
import { Outputs, planSteps, runOperations } from '../operations/operation.js';
import { type PlanOutcome, planOnly } from '../operations/runner.js';
import { reseedPlan, type ReseedContext } from '../operations/reseed/plan.js';
import { conn, controlled, type Deps, loadState } from './context.js';

export async function _reseed(deps: Deps, options: { dryRun?: boolean } = {}): Promise<Report> {
  const { config } = deps;
  const state = await loadState(deps);
  const link = state.phase === 'switched-over' && state.serving === 'green' ? state.reverse : undefined;
  if (config.mode !== 'replicate' || !link) {
    // Before the switchover green holds what migrations wrote (backfills): blue's rows copied over it would lose that.
    const where = `${state.phase}${config.mode !== 'replicate' ? ' in freeze mode' : ''}`;
    throw new BlockedError(`nothing to re-seed while the cutover is ${where}`, {
      hint:
        'A re-seed rebuilds replication green → blue in the rollback window. Before the switchover, blue → green is rebuilt by ' +
        '`bluegreen abort` and `bluegreen clone` (green holds what migrations wrote, which blue rows copied over it would lose).',
    });
  }
  const context = (onPublisher: Client, onStandby: Client): ReseedContext => ({
    deps,
    link,
    publisher: 'green',
    standby: 'blue',
    onPublisher,
    onStandby,
  });
  if (options.dryRun) {
    const ctx = context({} as Client, {} as Client);
    return { ok: true, steps: planOnly(planSteps(reseedPlan, ctx, new Outputs(ctx), { progress: deps.progress, secrets: [] })) };
  }
  const journal = { sink: fileJournal(config.stateDir, state.id, 'reseed'), command: 'reseed', cutover: state.id };
  const run = (onGreen: Client, onBlue: Client) =>
    runOperations(reseedPlan, context(onGreen, onBlue), {
      progress: deps.progress,
      secrets: config.secrets,
      journal: { ...journal, startedAt: deps.clock.now().toISOString() },
    });
  return controlled(deps, 'reseed', async () => {
    const outcome = await withClient(
      config.green,
      (onGreen) => withClient(config.blue, (onBlue) => run(onGreen, onBlue), conn(deps, 'blue', 'reseed')),
      conn(deps, 'green', 'reseed'),
    );
    return reseedReport(outcome, 'green');
  });
}

/** The run as the operator reads it: a refusal in its own words, else the failed step, what was undone, what to do. */
function reseedReport(outcome: PlanOutcome, publisher: Side): Report {
  if (!outcome.failed) return { ok: true, steps: outcome.steps };
  const err = outcome.failed.error;
  const error = { code: err.code, exitCode: err.exitCode, message: err.message, hint: err.hint };
  // Refused before anything changed: the refusal's own words are the whole story.
  if (outcome.failed.step === 'check-link') return { ok: false, steps: outcome.steps, error };
  const undone = outcome.undone.length ? ` Undone: ${outcome.undone.join('; ')}.` : '';
  return {
    ok: false,
    steps: outcome.steps,
    error: {
      ...error,
      message: `reseed failed at ${outcome.failed.step}: ${err.message}`,
      hint: `${err.hint ? `${err.hint} ` : ''}${publisher} still serves.${undone} Fix the cause and run \`bluegreen reseed\` again.`,
    },
  };
}
