/**
 * Inside the pause, the side we leave frozen: one statement finds what changed since the copy before the
 * pause (pages or metadata written by a transaction the copy may not have seen, page counts, comments,
 * the set of oids); only that is copied. Logical replication does not carry large objects.
 */
import type { Loss } from '../../core/window.js';
import { copyLargeObjects, largeObjectsChangedSince, nameOids } from '../../adapters/large-objects.js';
import { readLargeObjectsRecord, recordLargeObjects } from '../../commands/flip-large-objects.js';
import { noted, skipped } from '../operation.js';
import type { FlipOperation } from './context.js';
import { largeObjectLosses, refusingLargeObjects, type LargeObjectsBeforePause } from './carry-large-objects.js';

/** Output only in freeze mode's rollback with --accept-data-loss, when green changed more since the check. */
export const carryLargeObjectsChanged: FlipOperation<
  LargeObjectsBeforePause | undefined,
  { readonly losses: ReadonlyArray<Loss> } | undefined
> = {
  name: 'carry-large-objects-changed',
  journalBehind: true,
  title: (ctx) => `Copying large objects changed on ${ctx.flip.from} since the copy before the pause`,
  run: async (ctx, before) => {
    const { deps, state } = ctx;
    const { from, to } = ctx.sessions;
    if (!before) return skipped('no copy before the pause to check against');
    const { changed, gone } = await largeObjectsChangedSince(from, before.horizon);
    if (refusingLargeObjects(ctx)) {
      const { losses, refusal } = largeObjectLosses(ctx, changed, gone);
      if (refusal) throw refusal;
      return changed.length || gone.length
        ? { output: { losses }, detail: `${changed.length + gone.length} more changed: accepted` }
        : noted('none changed since');
    }
    if (!changed.length && !gone.length) return noted('none changed since');
    const bytes = await copyLargeObjects(from, to, changed, gone);
    const record = readLargeObjectsRecord(deps.config, state.id);
    for (const oid of changed) record.add(oid);
    for (const oid of gone) record.delete(oid);
    recordLargeObjects(deps.config, state.id, record);
    return noted(
      `${changed.length} copied (${(bytes / 1048576).toFixed(1)} MB), ${gone.length} unlinked: ${nameOids([...changed, ...gone])}`,
    );
  },
};
