/**
 * `bluegreen sync-schema`: during replication (before the switchover, and through the rollback
 * window), carries the serving side's additive schema changes to the standby side, extends
 * replication to them and copies the values written before that, so the next flip loses nothing;
 * and says what cannot be carried (the losses). Every flip runs it before its pause.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { BlueGreenError, DataLossRefusedError, UsageError } from '../core/errors.js';
import type { Report, StepResult } from '../core/report.js';
import type { SchemaSnapshot } from '../core/schema-diff.js';
import type { CutoverState, ReplicationLink, Side } from '../core/state.js';
import { assessWindow, type CarryAction, describeCarry, type Loss, type WindowVerdict } from '../core/window.js';
import { readSchema } from '../adapters/catalog/schema-snapshot.js';
import { type Client, withClient } from '../adapters/pg.js';
import {
  type CarryOutcome,
  carrySchema,
  catchUp,
  sqlName,
  emptyForResync,
  countValues,
  hasRows,
  readPublished,
  refreshSubscription,
  setNotNull,
  setPublicationTables,
  sharedColumns,
  subscribedTables,
  waitForTableSync,
} from '../adapters/schema-carry.js';
import { copyColumnsByKey } from '../adapters/row-copy.js';
import { writeFileAtomic } from '../adapters/state-store.js';
import { carryPartitions, isPartitionAction, partitionRoot, rowsNeverReplicated } from '../adapters/partition-carry.js';
import { quoteQualified } from '../core/quote.js';
import { resetSubscriptionErrors } from '../adapters/replication.js';
import { installWriteGuard } from '../adapters/write-guard.js';
import { lastPart, tableOf } from '../core/window.js';
import { schemaFile } from '../adapters/state-store.js';
import { conn, controlled, type Deps, loadState } from './context.js';

/** Where the serving side's schema is recorded when it starts serving: the baseline its later DDL is judged against. */
export function baselineFile(stateDir: string, cutoverId: string): string {
  return path.join(stateDir, `${cutoverId}.schema-serving.json`);
}

export function recordBaseline(stateDir: string, cutoverId: string, side: Side, schema: SchemaSnapshot): void {
  writeFileAtomic(baselineFile(stateDir, cutoverId), JSON.stringify({ side, schema }));
}

function readBaseline(stateDir: string, state: CutoverState, side: Side): SchemaSnapshot | undefined {
  const file = baselineFile(stateDir, state.id);
  if (existsSync(file)) {
    const b = JSON.parse(readFileSync(file, 'utf8')) as { side: Side; schema: SchemaSnapshot };
    if (b.side === side) return b.schema;
  }
  // Before the first switchover blue's baseline is its schema at the clone (green's right after the restore).
  const atClone = schemaFile(stateDir, state.id, 'at-clone');
  return side === 'blue' && existsSync(atClone) ? JSON.parse(readFileSync(atClone, 'utf8')) : undefined;
}

/** The replication link from the serving side to the standby, when one runs. */
export function servingLink(state: CutoverState): ReplicationLink | undefined {
  return state.serving === 'blue' ? state.forward : state.reverse;
}

/** Reads both sides and judges what the next flip from `from` to `to` would carry and lose. */
export async function assess(
  deps: Pick<Deps, 'config'>,
  state: CutoverState,
  from: Client,
  to: Client,
  fromSide: Side,
): Promise<WindowVerdict> {
  const link = fromSide === state.serving ? servingLink(state) : undefined;
  const [fromNow, toNow] = await Promise.all([readSchema(from), readSchema(to)]);
  // Published but not (yet) in the standby's subscription counts as not replicated: a sync cut short
  // between extending the publication and refreshing the subscription must not read as covered.
  const subscribed = link ? await subscribedTables(to, link.subscription) : undefined;
  const published = link ? new Map([...(await readPublished(from, link.publication))].filter(([t]) => subscribed!.has(t))) : undefined;
  const verdict = assessWindow({
    from: fromSide,
    to: fromSide === 'blue' ? 'green' : 'blue',
    fromBaseline: readBaseline(deps.config.stateDir, state, fromSide),
    fromNow,
    toNow,
    published,
  });
  // A table PostgreSQL's table sync is still copying (or failing to copy) is not on the standby yet.
  const copying = [...(subscribed ?? new Map<string, string>())]
    .filter(([, st]) => st !== 'r')
    .map(([t]) => ({
      object: `table ${t}`,
      what: `still being copied to ${verdict.to} by table sync: a flip now would leave its rows behind (\`bluegreen sync-schema\` waits for it; ${verdict.to}'s log says why if it does not finish)`,
    }));
  return { ...verdict, losses: [...(await withRowCounts(to, verdict.losses)), ...copying] };
}

/** Puts figures on column losses: how many values the standby holds that the flip gives up. */
async function withRowCounts(to: Client, losses: ReadonlyArray<Loss>): Promise<Loss[]> {
  const out: Loss[] = [];
  for (const l of losses) {
    const m = /^column (.+)$/.exec(l.object);
    if (m && /^dropped on/.test(l.what)) {
      // The loss stands either way; its figure, if it cannot be read, is said to be unknown rather than left out.
      const n = await countValues(to, tableOf(m[1]), lastPart(m[1])).catch((error: Error) => `unknown: ${error.message.split('\n')[0]}`);
      out.push({
        ...l,
        what:
          typeof n === 'number' ? `${l.what} (${n} non-null value${n === 1 ? '' : 's'} there now)` : `${l.what} (values there now: ${n})`,
      });
      continue;
    }
    out.push(l);
  }
  return out;
}

export interface SyncOutcome {
  readonly verdict: WindowVerdict;
  readonly carried: ReadonlyArray<string>;
  /** Carry actions not run because they would discard the standby's copy of what the losses name. */
  readonly held: ReadonlyArray<string>;
}

/**
 * Carries what `verdict` says to the standby and extends replication to it. Re-publishing a table
 * re-copies it and so discards the standby's values of columns the serving side dropped: held back
 * unless the operator accepted the losses.
 */
export async function carry(
  deps: Pick<Deps, 'config' | 'progress'>,
  state: CutoverState,
  from: Client,
  to: Client,
  verdict: WindowVerdict,
  acceptDataLoss: boolean,
): Promise<SyncOutcome> {
  const link = servingLink(state);
  const lossyTables = new Set(verdict.losses.map((l) => tableOf(l.object.replace(/^(column|table|constraint) /, ''))));
  const held = verdict.carry.filter((a) => a.kind === 'republish' && !acceptDataLoss && lossyTables.has(a.table));
  const actions: CarryAction[] = verdict.carry.filter((a) => !held.includes(a));
  // Partitions made or attached on the standby whose rows are still to be checked (written down before
  // they are made: a run cut short before its check leaves the partition there and nothing to carry).
  const checksFile = path.join(deps.config.stateDir, `${state.id}.partition-checks-${verdict.to}.json`);
  const owedChecks: string[] = existsSync(checksFile) ? JSON.parse(readFileSync(checksFile, 'utf8')) : [];
  // Columns whose values were being copied by key when a run was cut short: once the publication covers
  // them the next run sees nothing to carry, so what was owed is written down before it is extended.
  const columnsFile = path.join(deps.config.stateDir, `${state.id}.column-copies-${verdict.to}.json`);
  const owedColumns: CarryOutcome['columnsToCopy'] = existsSync(columnsFile) ? JSON.parse(readFileSync(columnsFile, 'utf8')) : [];
  if (!actions.length && !owedChecks.length && !owedColumns.length) return { verdict, carried: [], held: held.map(describeCarry) };
  const schemaActions = actions.filter((a) => a.kind !== 'republish');
  const partitions = schemaActions.filter(isPartitionAction);
  const toCheck = [...new Set([...owedChecks, ...partitions.filter((a) => a.kind !== 'detach').map((a) => a.table)])];
  if (toCheck.length) writeFileAtomic(checksFile, JSON.stringify(toCheck));
  const outcome = await carrySchemaInOrder(from, to, schemaActions);
  const copiedAfresh: string[] = [];
  // New tables on the serving side must be frozen with the rest when traffic leaves it.
  await installWriteGuard(from, { lockTimeout: '5s' });
  await installWriteGuard(to);
  if (link) {
    const republish = actions.filter((a) => a.kind === 'republish').map((a) => (a as { table: string }).table);
    if (republish.length) {
      // Out of the subscription first, so table sync copies them afresh once they are published again.
      await refreshSubscription(to, link.subscription, false);
      for (const t of republish) await emptyForResync(to, t);
    }
    const columns = [...owedColumns, ...outcome.columnsToCopy];
    if (columns.length) writeFileAtomic(columnsFile, JSON.stringify(columns));
    const shared = await sharedColumns(from, to);
    await setPublicationTables(from, link.publication, shared);
    if (outcome.tablesToSync.length || republish.length || partitions.length) await refreshSubscription(to, link.subscription, true);
    if (columns.length) {
      await catchUp(from, to, 60_000);
      for (const c of columns) {
        deps.progress.update(`Copying ${c.table}.${c.column} by key`);
        await copyColumnsByKey(from, to, c.table, [c.column]);
        // Idempotent: an owed column may have its NOT NULL from the run that was cut short.
        if (c.setNotNull) await setNotNull(to, c.table, c.column);
      }
      rmSync(columnsFile, { force: true });
      const owed = owedColumns.map((c) => `${c.table}.${c.column}`).join(', ');
      if (owed) copiedAfresh.push(`finished copying by key what a run cut short left: ${owed}`);
    }
    await waitForTableSync(to, link.subscription, 10 * 60_000, (n) =>
      deps.progress.update(`Copying ${n} table${n > 1 ? 's' : ''} by table sync`),
    );
    // A table attached with rows in it on the serving side: those rows were never published. Its
    // root is copied afresh (PostgreSQL's table sync, race-free with the stream), never left short.
    const roots = new Set<string>();
    for (const table of toCheck) {
      deps.progress.update(`Checking that ${table}'s rows reached ${verdict.to}`);
      if ((await rowsNeverReplicated(from, to, table)) > 0) roots.add(await partitionRoot(from, table));
    }
    for (const root of roots) {
      deps.progress.update(`Copying ${root} afresh: a partition's rows were never replicated`);
      await setPublicationTables(
        from,
        link.publication,
        shared.filter((t) => quoteQualified(t.schema, t.name) !== sqlName(root)),
      );
      await refreshSubscription(to, link.subscription, false);
      await emptyForResync(to, root);
      await setPublicationTables(from, link.publication, shared);
      await refreshSubscription(to, link.subscription, true);
      await waitForTableSync(to, link.subscription, 10 * 60_000, (n) =>
        deps.progress.update(`Copying ${n} table${n > 1 ? 's' : ''} by table sync`),
      );
      copiedAfresh.push(`copy ${root} afresh (a partition attached on ${verdict.from} held rows that were never replicated)`);
    }
    rmSync(checksFile, { force: true });
    for (const t of [...republish, ...roots]) {
      if ((await hasRows(from, t)) && !(await hasRows(to, t))) {
        throw new BlueGreenError(`${t} was copied afresh to ${verdict.to} but is empty there while ${verdict.from} has rows`, {
          hint: `Nothing was flipped. Run \`bluegreen sync-schema\` again; ${verdict.to}'s log says why table sync copied nothing.`,
        });
      }
    }
    // The apply worker may have failed on what was missing; from here, a new failure is news.
    await resetSubscriptionErrors(to, link.subscription);
  }
  return { verdict, carried: [...actions.map(describeCarry), ...copiedAfresh], held: held.map(describeCarry) };
}

/** Runs the schema part of carry actions on `to`: partitions between the tables they belong to and the columns, keys and indexes that follow. */
export async function carrySchemaInOrder(
  from: Client,
  to: Client,
  actions: ReadonlyArray<CarryAction>,
): Promise<Pick<CarryOutcome, 'tablesToSync' | 'columnsToCopy'>> {
  const cut = actions.findIndex(isPartitionAction);
  const head = cut < 0 ? actions : actions.slice(0, cut);
  const tail = cut < 0 ? [] : actions.slice(cut).filter((a) => !isPartitionAction(a));
  const first = await carrySchema(from, to, head);
  await carryPartitions(from, to, actions.filter(isPartitionAction));
  const second = await carrySchema(from, to, tail);
  return {
    tablesToSync: [...first.tablesToSync, ...second.tablesToSync],
    columnsToCopy: [...first.columnsToCopy, ...second.columnsToCopy],
  };
}

export interface SyncSchemaResult extends Report {
  readonly from?: Side;
  readonly to?: Side;
  readonly carried: ReadonlyArray<string>;
  readonly losses: ReadonlyArray<Loss>;
  readonly notes: ReadonlyArray<string>;
}

/** The losses as an error that refuses a flip (exit 3), naming each and what to do. */
export function lossRefusal(direction: string, v: WindowVerdict): DataLossRefusedError {
  return new DataLossRefusedError(
    `${direction} would lose data on ${v.to}:\n${v.losses.map((l) => `  ${l.object}: ${l.what}`).join('\n')}`,
    {
      hint: `Undo the change on ${v.from} (re-add what was dropped) and run \`bluegreen sync-schema\`, or run again with --accept-data-loss to give these up (recorded in the state and the audit log).`,
    },
  );
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
  const from = state.serving;
  const to: Side = from === 'blue' ? 'green' : 'blue';
  const url = (s: Side) => (s === 'blue' ? config.blue : config.green);
  const run = async (): Promise<SyncSchemaResult> =>
    withClient(
      url(from),
      (fromClient) =>
        withClient(
          url(to),
          async (toClient) => {
            deps.progress.start(`Comparing ${from}'s schema with ${to}'s`);
            const verdict = await assess(deps, state, fromClient, toClient, from);
            deps.progress.succeed(
              `${verdict.carry.length} change${verdict.carry.length === 1 ? '' : 's'} to carry, ${verdict.losses.length} loss${verdict.losses.length === 1 ? '' : 'es'}`,
            );
            if (options.dryRun) {
              return {
                ok: true,
                from,
                to,
                steps: [],
                carried: verdict.carry.map(describeCarry),
                losses: verdict.losses,
                notes: verdict.notes,
              };
            }
            const start = performance.now();
            deps.progress.start(`Carrying ${from}'s changes to ${to}`);
            const outcome = await carry(deps, state, fromClient, toClient, verdict, false);
            const ms = Math.round(performance.now() - start);
            deps.progress.succeed(`Carried ${outcome.carried.length} change${outcome.carried.length === 1 ? '' : 's'} to ${to} (${ms} ms)`);
            const steps: StepResult[] = [
              {
                name: 'carry',
                status: outcome.carried.length ? 'ok' : 'skipped',
                ms,
                detail: outcome.carried.join('; ') || 'nothing to carry',
              },
            ];
            const after = outcome.carried.length ? await assess(deps, state, fromClient, toClient, from) : verdict;
            const notes = [
              ...after.notes,
              ...outcome.held.map((h) => `held back (it would discard ${to}'s copy of what the losses name): ${h}`),
            ];
            if (after.losses.length) {
              const refusal = lossRefusal(`a flip from ${from} to ${to}`, after);
              return {
                ok: false,
                from,
                to,
                steps,
                carried: outcome.carried,
                losses: after.losses,
                notes,
                error: { code: refusal.code, exitCode: refusal.exitCode, message: refusal.message, hint: refusal.hint },
              };
            }
            return { ok: true, from, to, steps, carried: outcome.carried, losses: [], notes };
          },
          conn(deps, to, 'sync-schema'),
        ),
      conn(deps, from, 'sync-schema'),
    );
  return options.dryRun ? run() : controlled(deps, 'sync-schema', run);
}
