/**
 * Carries what a verdict says to the standby and extends replication to it. Re-publishing a table
 * re-copies it and so discards the standby's values of columns the serving side dropped: held back
 * unless the operator accepted the losses.
 */
import { BlueGreenError } from '../../core/errors.js';
import type { CutoverState, ReplicationLink } from '../../core/state.js';
import { type CarryAction, describeCarry, tableOf, type WindowVerdict } from '../../core/window.js';
import { isPartitionAction } from '../../adapters/partition-carry.js';
import type { Client } from '../../adapters/pg.js';
import { resetSubscriptionErrors } from '../../adapters/replication.js';
import { emptyForResync, hasRows, refreshSubscription, setPublicationTables, sharedColumns } from '../../adapters/schema-carry.js';
import { installWriteGuard } from '../../adapters/write-guard.js';
import type { Deps } from '../../commands/context.js';
import { servingLink } from './baseline.js';
import { carrySchemaInOrder } from './carry-schema.js';
import { copyColumns, copyRootsAfresh, tableSync } from './copy-afresh.js';
import { type OwedWork, owedWork } from './owed-work.js';

export interface SyncOutcome {
  readonly verdict: WindowVerdict;
  readonly carried: ReadonlyArray<string>;
  /** Carry actions not run because they would discard the standby's copy of what the losses name. */
  readonly held: ReadonlyArray<string>;
}

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
  const owed = owedWork(deps.config.stateDir, state.id, verdict.to);
  if (!actions.length && !owed.partitionChecks.owed.length && !owed.columnCopies.owed.length)
    return { verdict, carried: [], held: held.map(describeCarry) };
  const schemaActions = actions.filter((a) => a.kind !== 'republish');
  const partitions = schemaActions.filter(isPartitionAction);
  // Written down before they are made: a run cut short before its check leaves the partition there and nothing to carry.
  const toCheck = [...new Set([...owed.partitionChecks.owed, ...partitions.filter((a) => a.kind !== 'detach').map((a) => a.table)])];
  if (toCheck.length) owed.partitionChecks.save(toCheck);
  const outcome = await carrySchemaInOrder(from, to, schemaActions);
  // New tables on the serving side must be frozen with the rest when traffic leaves it.
  await installWriteGuard(from, { lockTimeout: '5s' });
  await installWriteGuard(to);
  const copiedAfresh = link
    ? await extendReplication(deps, link, { from, to, verdict }, { actions, outcome, toCheck, owed, partitions: partitions.length })
    : [];
  return { verdict, carried: [...actions.map(describeCarry), ...copiedAfresh], held: held.map(describeCarry) };
}

interface Carried {
  readonly actions: ReadonlyArray<CarryAction>;
  readonly outcome: Awaited<ReturnType<typeof carrySchemaInOrder>>;
  readonly toCheck: ReadonlyArray<string>;
  readonly owed: OwedWork;
  readonly partitions: number;
}

/** Extends the serving side's publication and the standby's subscription to what was carried; what had to be copied afresh. */
async function extendReplication(
  deps: Pick<Deps, 'progress'>,
  link: ReplicationLink,
  sides: { readonly from: Client; readonly to: Client; readonly verdict: WindowVerdict },
  carried: Carried,
): Promise<string[]> {
  const { from, to, verdict } = sides;
  const { owed, outcome } = carried;
  const copiedAfresh: string[] = [];
  const republish = carried.actions.filter((a) => a.kind === 'republish').map((a) => (a as { table: string }).table);
  if (republish.length) {
    // Out of the subscription first, so table sync copies them afresh once they are published again.
    await refreshSubscription(to, link.subscription, false);
    for (const t of republish) await emptyForResync(to, t);
  }
  const columns = [...owed.columnCopies.owed, ...outcome.columnsToCopy];
  if (columns.length) owed.columnCopies.save(columns);
  const shared = await sharedColumns(from, to);
  await setPublicationTables(from, link.publication, shared);
  if (outcome.tablesToSync.length || republish.length || carried.partitions) await refreshSubscription(to, link.subscription, true);
  if (columns.length) {
    await copyColumns(deps.progress, from, to, columns);
    owed.columnCopies.clear();
    const owedNames = owed.columnCopies.owed.map((c) => `${c.table}.${c.column}`).join(', ');
    if (owedNames) copiedAfresh.push(`finished copying by key what a run cut short left: ${owedNames}`);
  }
  await tableSync(deps.progress, to, link);
  const roots = await copyRootsAfresh(deps.progress, link, sides, carried.toCheck, shared);
  for (const root of roots)
    copiedAfresh.push(`copy ${root} afresh (a partition attached on ${verdict.from} held rows that were never replicated)`);
  owed.partitionChecks.clear();
  for (const t of [...republish, ...roots]) {
    if ((await hasRows(from, t)) && !(await hasRows(to, t))) {
      throw new BlueGreenError(`${t} was copied afresh to ${verdict.to} but is empty there while ${verdict.from} has rows`, {
        hint: `Nothing was flipped. Run \`bluegreen sync-schema\` again; ${verdict.to}'s log says why table sync copied nothing.`,
      });
    }
  }
  // The apply worker may have failed on what was missing; from here, a new failure is news.
  await resetSubscriptionErrors(to, link.subscription);
  return copiedAfresh;
}
