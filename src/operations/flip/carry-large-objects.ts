/**
 * Before the pause: every large object that differs between the sides is copied from the side we leave
 * (logical replication does not carry them), in one snapshot of it, and that snapshot's position is the
 * output the check inside the pause starts from. A large object on the other side that the side we leave
 * never had (not in the record of the last copy) is left alone and named. Freeze mode's rollback carries
 * nothing back: green's changes to large objects are losses, refused without --accept-data-loss.
 */
import { BlockedError, DataLossRefusedError } from '../../core/errors.js';
import type { Loss } from '../../core/window.js';
import {
  beginReadAt,
  copyLargeObjects,
  largeObjectDifference,
  nameOids,
  readLargeObjects,
  rememberLargeObjects,
} from '../../adapters/large-objects.js';
import { largeObjectAccess } from '../../adapters/privilege-probe.js';
import { readLargeObjectsRecord, recordLargeObjects } from '../../commands/flip-large-objects.js';
import { skipped, type Done } from '../operation.js';
import type { FlipContext, FlipOperation } from './context.js';
import { ChangesRefusedError, countGreenChanges } from './green-changes.js';

export interface LargeObjectsBeforePause {
  /** Where the copy's snapshot of the side we leave stood: the check inside the pause looks at what changed since. */
  readonly horizon: string;
  /** Freeze mode's rollback with --accept-data-loss: green's changes given up. */
  readonly losses?: ReadonlyArray<Loss>;
}

/** Whether the flip gives up the side we leave's large objects rather than carrying them (freeze mode's rollback). */
export function refusingLargeObjects(ctx: Pick<FlipContext, 'deps' | 'flip'>): boolean {
  return ctx.deps.config.mode === 'freeze' && ctx.flip.direction === 'rollback';
}

function describeOids(changed: ReadonlyArray<string>, gone: ReadonlyArray<string>): string {
  return [changed.length ? `created or changed: ${nameOids(changed)}` : '', gone.length ? `unlinked: ${nameOids(gone)}` : '']
    .filter(Boolean)
    .join('; ');
}

/** Green's changes to large objects in a freeze-mode rollback: the losses accepted, or the refusal. */
export function largeObjectLosses(
  ctx: Pick<FlipContext, 'acceptDataLoss'>,
  changed: ReadonlyArray<string>,
  gone: ReadonlyArray<string>,
): { losses: Loss[]; refusal?: DataLossRefusedError } {
  if (!changed.length && !gone.length) return { losses: [] };
  const what = describeOids(changed, gone);
  const losses = [{ object: 'large objects', what: `changed on green since the switchover, given up by the rollback (${what})` }];
  if (ctx.acceptDataLoss) return { losses };
  const refusal = new DataLossRefusedError(`rolling back would lose green's changes to large objects since the switchover (${what})`, {
    hint: "Freeze mode keeps no copy of green's writes on blue. Export them first (lo_export), or run again with --accept-data-loss.",
  });
  return { losses: [], refusal };
}

/**
 * Freeze mode's rollback refuses here before its guardrails count green's rows: the refusal names
 * those too, so the operator sees everything --accept-data-loss would give up, not the large objects alone.
 */
async function withGreenChanges(
  ctx: FlipContext,
  refusal: DataLossRefusedError,
  changed: ReadonlyArray<string>,
  gone: ReadonlyArray<string>,
): Promise<DataLossRefusedError> {
  let counted;
  try {
    counted = await countGreenChanges(ctx);
  } catch (error) {
    if (!(error instanceof ChangesRefusedError)) throw error;
    // Rows and large objects together: the rows' own advice (export them, or accept) comes first.
    return new ChangesRefusedError(`${error.message}\n  large objects: ${describeOids(changed, gone)}`, error.lostWrites, {
      hint: `${error.hint ?? ''} Large objects: export them with lo_export first.`.trim(),
    });
  }
  return new ChangesRefusedError(refusal.message, counted.changes.lostWrites, { hint: refusal.hint });
}

/** The side we leave's large objects against the other's, in one snapshot of it; copies (or refuses) what differs. */
async function carry(ctx: FlipContext): Promise<Done<LargeObjectsBeforePause>> {
  const { deps, flip, state } = ctx;
  const { from, to } = ctx.sessions;
  const [source, target] = [await readLargeObjects(from), await readLargeObjects(to)];
  const copied = readLargeObjectsRecord(deps.config, state.id);
  const changed = [...source.values()]
    .filter((lo) => !target.has(lo.oid) || largeObjectDifference(lo, target.get(lo.oid)!).length)
    .map((lo) => lo.oid);
  const targetOnly = [...target.keys()].filter((oid) => !source.has(oid));
  // Unlinked on the side we leave since the last copy; the others were made on the side we go to, and stay.
  const gone = targetOnly.filter((oid) => copied.has(oid));
  const kept = targetOnly.filter((oid) => !copied.has(oid));
  const horizon = await rememberLargeObjects(from);
  if (!source.size && !target.size)
    return { skipped: 'no large objects on either side (checked again inside the pause)', output: { horizon } };
  if (refusingLargeObjects(ctx)) {
    const { losses, refusal } = largeObjectLosses(ctx, changed, gone);
    if (refusal) throw await withGreenChanges(ctx, refusal, changed, gone);
    return {
      output: { horizon, ...(losses.length ? { losses } : {}) },
      detail:
        changed.length || gone.length
          ? `ACCEPTED LOSS of green's changes to ${changed.length + gone.length} large objects`
          : `${source.size} large objects, none changed on ${flip.from}`,
    };
  }
  const bytes = await copyLargeObjects(from, to, changed, gone);
  recordLargeObjects(deps.config, state.id, source.keys());
  const keptNote = kept.length ? `; left alone on ${flip.to}, never on ${flip.from}: ${nameOids(kept)}` : '';
  if (!changed.length && !gone.length) return { output: { horizon }, detail: `${source.size} large objects, all equal${keptNote}` };
  return {
    output: { horizon },
    detail: `${changed.length} copied (${(bytes / 1048576).toFixed(1)} MB), ${gone.length} unlinked, of ${source.size}${keptNote}`,
  };
}

export const carryLargeObjects: FlipOperation<void, LargeObjectsBeforePause> = {
  name: 'carry-large-objects',
  title: (ctx) =>
    refusingLargeObjects(ctx)
      ? `Checking ${ctx.flip.from}'s large objects against ${ctx.flip.to}'s`
      : `Copying large objects ${ctx.flip.from} → ${ctx.flip.to} that differ`,
  unbudgeted: true,
  run: async (ctx) => {
    const { from, to } = ctx.sessions;
    // Without a superuser pg_largeobject is unreadable: with none to carry the step has nothing to do.
    const access = [await largeObjectAccess(from), await largeObjectAccess(to)];
    if (access.some((a) => !a.readable)) {
      if (access.every((a) => a.count === 0))
        return skipped('no large objects on either side (pg_largeobject is not readable to this role)');
      throw new BlockedError(
        `${access[0].count + access[1].count} large objects, and pg_largeobject is not readable to the configured role: ` +
          'they cannot be carried',
        { hint: 'Connect as a role that may read pg_largeobject (a superuser), or move the large objects into bytea columns first.' },
      );
    }
    await beginReadAt(from);
    try {
      return await carry(ctx);
    } finally {
      await from.query('COMMIT');
    }
  },
};
