/**
 * What replication did not bring: values of new columns written before the publication covered them
 * (copied by key), and the rows of a partition attached with rows on the serving side (never published:
 * its root is copied afresh by PostgreSQL's table sync, race-free with the stream, never left short).
 */
import type { ReplicationLink } from '../../core/state.js';
import { quoteQualified } from '../../core/quote.js';
import type { WindowVerdict } from '../../core/window.js';
import { partitionRoot, rowsNeverReplicated } from '../../adapters/partition-carry.js';
import type { Client } from '../../adapters/pg.js';
import {
  type CarryOutcome,
  catchUp,
  copyColumnsByKey,
  emptyForResync,
  refreshSubscription,
  setNotNull,
  setPublicationTables,
  type sharedColumns,
  sqlName,
  waitForTableSync,
} from '../../adapters/schema-carry.js';
import type { Deps } from '../../commands/context.js';

type Progress = Pick<Deps, 'progress'>['progress'];

/** Waits for table sync to copy what it was given, saying how many tables are left. */
export function tableSync(progress: Progress, to: Client, link: ReplicationLink): Promise<void> {
  return waitForTableSync(to, link.subscription, 10 * 60_000, (n) =>
    progress.update(`Copying ${n} table${n > 1 ? 's' : ''} by table sync`),
  );
}

/** Copies columns' values by key once the standby has caught up (and sets the NOT NULL they wait for). */
export async function copyColumns(progress: Progress, from: Client, to: Client, columns: CarryOutcome['columnsToCopy']): Promise<void> {
  await catchUp(from, to, 60_000);
  for (const c of columns) {
    progress.update(`Copying ${c.table}.${c.column} by key`);
    await copyColumnsByKey(from, to, c.table, [c.column]);
    // Idempotent: an owed column may have its NOT NULL from the run that was cut short.
    if (c.setNotNull) await setNotNull(to, c.table, c.column);
  }
}

/** The roots of partitions whose rows never reached the standby, each copied afresh; the roots copied. */
export async function copyRootsAfresh(
  progress: Progress,
  link: ReplicationLink,
  sides: { readonly from: Client; readonly to: Client; readonly verdict: WindowVerdict },
  toCheck: ReadonlyArray<string>,
  shared: Awaited<ReturnType<typeof sharedColumns>>,
): Promise<string[]> {
  const { from, to, verdict } = sides;
  const roots = new Set<string>();
  for (const table of toCheck) {
    progress.update(`Checking that ${table}'s rows reached ${verdict.to}`);
    if ((await rowsNeverReplicated(from, to, table)) > 0) roots.add(await partitionRoot(from, table));
  }
  for (const root of roots) {
    progress.update(`Copying ${root} afresh: a partition's rows were never replicated`);
    await setPublicationTables(
      from,
      link.publication,
      shared.filter((t) => quoteQualified(t.schema, t.name) !== sqlName(root)),
    );
    await refreshSubscription(to, link.subscription, false);
    await emptyForResync(to, root);
    await setPublicationTables(from, link.publication, shared);
    await refreshSubscription(to, link.subscription, true);
    await tableSync(progress, to, link);
  }
  return [...roots];
}
