/**
 * `bluegreen sync-schema`: during replication (before the switchover, and through the rollback
 * window), carries the serving side's additive schema changes to the standby side, extends
 * replication to them and copies the values written before that, so the next flip loses nothing;
 * and says what cannot be carried (the losses). Every flip runs it before its pause. The step and
 * what it is made of are in `src/operations/sync-schema/`.
 */
import { UsageError } from '../core/errors.js';
import type { Report } from '../core/report.js';
import type { Side } from '../core/state.js';
import { describeCarry, type Loss } from '../core/window.js';
import { withClient } from '../adapters/pg.js';
import { fileJournal } from '../adapters/run-journal.js';
import { runOperations } from '../operations/operation.js';
import { assess, lossRefusal } from '../operations/sync-schema/assess.js';
import { servingLink } from '../operations/sync-schema/baseline.js';
import { carryChanges, type SyncCtx } from '../operations/sync-schema/carry-changes.js';
import { syncSchemaPlan } from '../operations/sync-schema/plan.js';
import { conn, controlled, type Deps, loadState } from './context.js';
export { assess, lossRefusal } from '../operations/sync-schema/assess.js';
export { baselineFile, recordBaseline, servingLink } from '../operations/sync-schema/baseline.js';
export { carry, type SyncOutcome } from '../operations/sync-schema/carry.js';
export { carrySchemaInOrder } from '../operations/sync-schema/carry-schema.js';

export interface SyncSchemaResult extends Report {
  readonly from?: Side;
  readonly to?: Side;
  readonly carried: ReadonlyArray<string>;
  readonly losses: ReadonlyArray<Loss>;
  readonly notes: ReadonlyArray<string>;
}

/** Judges, carries, judges again: with sessions on both sides open. */
async function syncWith(ctx: SyncCtx, dryRun: boolean): Promise<SyncSchemaResult> {
  const { deps, state, from, to, fromSide, toSide } = ctx;
  deps.progress.start(`Comparing ${fromSide}'s schema with ${toSide}'s`);
  const verdict = await assess(deps, state, from, to, fromSide);
  const changes = `${verdict.carry.length} change${verdict.carry.length === 1 ? '' : 's'}`;
  deps.progress.succeed(`${changes} to carry, ${verdict.losses.length} loss${verdict.losses.length === 1 ? '' : 'es'}`);
  const sides = { from: fromSide, to: toSide };
  if (dryRun)
    return { ok: true, ...sides, steps: [], carried: verdict.carry.map(describeCarry), losses: verdict.losses, notes: verdict.notes };
  const journal = { sink: fileJournal(deps.config.stateDir, state.id, 'sync-schema'), command: 'sync-schema', cutover: state.id };
  const run = await runOperations(syncSchemaPlan(verdict), ctx, {
    progress: deps.progress,
    secrets: deps.config.secrets,
    undoOnFailure: false,
    journal: { ...journal, startedAt: deps.clock.now().toISOString() },
  });
  // A carry that fails is thrown, as it always was (the flip that runs `carry` reports it as its step's failure).
  if (run.failed) throw run.failed.error;
  const outcome = run.outputs.need(carryChanges);
  const after = outcome.carried.length ? await assess(deps, state, from, to, fromSide) : verdict;
  const notes = [...after.notes, ...outcome.held.map((h) => `held back (it would discard ${toSide}'s copy of what the losses name): ${h}`)];
  if (!after.losses.length) return { ok: true, ...sides, steps: run.steps, carried: outcome.carried, losses: [], notes };
  const refusal = lossRefusal(`a flip from ${fromSide} to ${toSide}`, after);
  const error = { code: refusal.code, exitCode: refusal.exitCode, message: refusal.message, hint: refusal.hint };
  return { ok: false, ...sides, steps: run.steps, carried: outcome.carried, losses: after.losses, notes, error };
}

export async function _syncSchema(deps: Deps, options: { dryRun?: boolean } = {}): Promise<SyncSchemaResult> {
  const { config } = deps;
  const state = await loadState(deps);
  const link = servingLink(state);
  if (config.mode !== 'replicate' || !link || !['ready', 'switched-over', 'rolled-back'].includes(state.phase)) {
    throw new UsageError(
      `sync-schema needs replication running from the serving side (replicate mode, after a clone; the cutover is ${state.phase})`,
      {
        hint: 'Run it between the clone and finalize, in replicate mode.',
      },
    );
  }
  const fromSide = state.serving;
  const toSide: Side = fromSide === 'blue' ? 'green' : 'blue';
  const url = (s: Side) => (s === 'blue' ? config.blue : config.green);
  const run = async (): Promise<SyncSchemaResult> =>
    withClient(
      url(fromSide),
      (from) =>
        withClient(
          url(toSide),
          (to) => syncWith({ deps, state, from, to, fromSide, toSide }, !!options.dryRun),
          conn(deps, toSide, 'sync-schema'),
        ),
      conn(deps, fromSide, 'sync-schema'),
    );
  return options.dryRun ? run() : controlled(deps, 'sync-schema', run);
}
