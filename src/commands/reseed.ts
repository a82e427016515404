/**
 * `bluegreen reseed`: rebuilds the direction that keeps the standby current after its slot lost the
 * WAL it needed (max_slot_wal_keep_size) or was dropped: the way back to a lossless rollback. Only in
 * the window (green → blue): blue's tables are a subset of green's, so copying green's rows in blue's
 * columns is what replication would have delivered. From the moment blue's copies are emptied until
 * table sync has copied them whole, the state records it: nothing puts traffic on blue meanwhile, and
 * the next `reseed` starts over.
 */
import { type BlueGreenError, TransitionNotAllowedError } from '../core/errors.js';
import type { Report } from '../core/report.js';
import type { CutoverState } from '../core/state.js';
import { type Client, withClient } from '../adapters/pg.js';
import { fileJournal } from '../adapters/run-journal.js';
import { plannedSteps, runOperations } from '../operations/operation.js';
import { failedAt, type PlanOutcome } from '../operations/runner.js';
import { reseedPlan, type ReseedContext } from '../operations/reseed/plan.js';
import { checkLink } from '../operations/reseed/check-link.js';
import { conn, controlled, type Deps, loadState } from './context.js';

export async function _reseed(deps: Deps, options: { dryRun?: boolean } = {}): Promise<Report> {
  const { config } = deps;
  const initial = await loadState(deps);
  const link = initial.phase === 'switched-over' && initial.serving === 'green' ? initial.reverse : undefined;
  if (config.mode !== 'replicate' || !link) {
    // Before the switchover green holds what migrations wrote (backfills): blue's rows copied over it would lose that.
    const where = `${initial.phase}${config.mode !== 'replicate' ? ' in freeze mode' : ''}`;
    throw new TransitionNotAllowedError(`cannot reseed while the cutover is ${where}`, {
      hint:
        'A re-seed rebuilds replication green → blue in the rollback window. Before the switchover, blue → green is rebuilt by ' +
        '`bluegreen abort` and `bluegreen clone` (green holds what migrations wrote, which blue rows copied over it would lose).',
    });
  }
  const at = () => deps.clock.now().toISOString();
  let state = initial;
  const save = async (changes: Partial<CutoverState>) => {
    state = { ...(await loadState(deps)), ...changes, updatedAt: at() };
    await deps.store.save(state);
  };
  const context = (onPublisher: Client, onStandby: Client): ReseedContext => ({
    deps,
    link,
    publisher: 'green',
    standby: 'blue',
    onPublisher,
    onStandby,
    unfinished: initial.reseeding,
    markEmptied: () => save({ reseeding: { startedAt: state.reseeding?.startedAt ?? at(), emptiedAt: at() } }),
  });
  if (options.dryRun) {
    // The first step only reads: run it, so a dry run says whether the real one would be refused.
    const check = await withClient(config.green, (onGreen) => checkLink.run(context(onGreen, {} as Client)), conn(deps, 'green', 'reseed'))
      .then((done) => ({ name: 'check-link', status: 'ok' as const, ms: 0, detail: done.skipped ?? done.detail }))
      .catch((error: BlueGreenError) => error);
    if (check instanceof Error) return reseedReport({ steps: [], failed: { step: 'check-link', error: check }, undone: [] }, undefined);
    const ctx = context({} as Client, {} as Client);
    const plan = plannedSteps(reseedPlan, ctx);
    return { ok: true, steps: [check, ...plan.slice(1)] };
  }
  const journal = { sink: fileJournal(config.stateDir, initial.id, 'reseed'), command: 'reseed', cutover: initial.id };
  const run = (onGreen: Client, onBlue: Client) =>
    runOperations(reseedPlan, context(onGreen, onBlue), {
      progress: deps.progress,
      secrets: config.secrets,
      journal: { ...journal, startedAt: at() },
    });
  return controlled(deps, 'reseed', async () => {
    await save({ reseeding: initial.reseeding ?? { startedAt: at() } });
    const outcome = await withClient(
      config.green,
      (onGreen) => withClient(config.blue, (onBlue) => run(onGreen, onBlue), conn(deps, 'blue', 'reseed')),
      conn(deps, 'green', 'reseed'),
    );
    // Done: blue is whole again and follows green; the refusal that sent the operator here is history.
    if (!outcome.failed) await save({ reseeding: undefined, lastError: undefined });
    // Refused before anything changed: the record is as it was.
    else if (outcome.failed.step === 'check-link') await save({ reseeding: initial.reseeding });
    else await save({ lastError: `reseed failed at ${outcome.failed.step}: ${outcome.failed.error.message}` });
    return reseedReport(outcome, state.reseeding?.emptiedAt);
  });
}

/** The run as the operator reads it: a refusal in its own words, else the failed step, what it left, what to do. */
function reseedReport(outcome: PlanOutcome, emptiedAt: string | undefined): Report {
  if (!outcome.failed) return { ok: true, steps: outcome.steps };
  const err = outcome.failed.error;
  // Refused before anything changed: the refusal's own words are the whole story.
  if (outcome.failed.step === 'check-link') {
    return { ok: false, steps: outcome.steps, error: { code: err.code, exitCode: err.exitCode, message: err.message, hint: err.hint } };
  }
  const undone = outcome.undone.length ? ` Undone: ${outcome.undone.join('; ')}.` : '';
  const left = emptiedAt
    ? ` Blue's copies were emptied (${emptiedAt}) and are NOT whole again: blue must not take traffic, and every command that ` +
      'would put it there refuses until a re-seed finishes.'
    : " Blue's copies were not touched.";
  const hint =
    `${err.hint ? `${err.hint} ` : ''}Traffic still goes to green (a re-seed never moves it).${left}${undone} ` +
    'Fix the cause and run `bluegreen reseed` again: it starts over.';
  return { ok: false, steps: outcome.steps, error: failedAt('reseed', outcome.failed, hint) };
}
