/**
 * Large objects at the clone and at every flip (logical replication does not carry them). Before the
 * pause: every large object that differs between the sides is copied from the side we leave, in one
 * snapshot of it, and that snapshot's state is remembered. Inside the pause, after the freeze: one
 * statement on the side we leave finds what changed since (pages or metadata written by a transaction
 * the copy may not have seen, page counts, comments, the set of oids), and only that is copied. A
 * large object on the other side that the side we leave never had (not in the record of the last copy)
 * is left alone and named. Freeze mode's rollback carries nothing back: green's changes to large
 * objects are losses, refused without --accept-data-loss.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BlockedError, DataLossRefusedError } from '../core/errors.js';
import type { Config } from '../core/config.js';
import {
  beginReadAt,
  copyLargeObjects,
  largeObjectDifference,
  largeObjectOids,
  largeObjectsChangedSince,
  nameOids,
  readLargeObjects,
  rememberLargeObjects,
} from '../adapters/large-objects.js';
import type { Client } from '../adapters/pg.js';
import { largeObjectAccess } from '../adapters/privilege-probe.js';
import { ensurePrivateDir, writeFileAtomic } from '../adapters/state-store.js';
import { countGreenChanges } from './flip-freeze-changes.js';
import type { FlipContext } from './flip-plan.js';
import type { PlanStep } from '../operations/runner.js';

/** The oids the side we go to holds as copies from the other side: the last copy's record. */
function recordFile(config: Config, cutoverId: string): string {
  return path.join(config.stateDir, `${cutoverId}.large-objects.json`);
}

export function recordLargeObjects(config: Config, cutoverId: string, oids: Iterable<string>): void {
  ensurePrivateDir(config.stateDir);
  writeFileAtomic(recordFile(config, cutoverId), JSON.stringify([...oids]));
}

function readRecord(config: Config, cutoverId: string): Set<string> {
  const file = recordFile(config, cutoverId);
  return new Set(existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as string[]) : []);
}

/**
 * The clone's step: the streaming clone copies every large object under the slot's snapshot (a
 * schema-only dump holds none); the dumping clone's pg_dump carries them. Either way the copied set is recorded.
 */
export async function cloneLargeObjects(
  blue: Client,
  green: Client,
  config: Config,
  cutoverId: string,
  snapshot: string | undefined,
  streaming: boolean,
): Promise<string | { skipped: string }> {
  await beginReadAt(blue, snapshot);
  try {
    const all = await largeObjectOids(blue);
    recordLargeObjects(config, cutoverId, all);
    if (!all.length) return { skipped: 'blue has no large objects' };
    if (!streaming)
      return { skipped: `pg_dump carries blue's ${all.length} large object${all.length > 1 ? 's' : ''} (owner, ACL and comment too)` };
    const bytes = await copyLargeObjects(blue, green, all);
    return `${all.length} large object${all.length > 1 ? 's' : ''}, ${(bytes / 1048576).toFixed(1)} MB, with owner, ACL and comment`;
  } finally {
    await blue.query('ROLLBACK');
  }
}

/** What the pre-pause step leaves for the one inside the pause. */
export interface LargeObjectsBeforePause {
  readonly horizon: string;
}

/** Whether the flip gives up the side we leave's large objects rather than carrying them (freeze mode's rollback). */
function refusing(ctx: FlipContext): boolean {
  return ctx.deps.config.mode === 'freeze' && ctx.flip.direction === 'rollback';
}

function lossOf(ctx: FlipContext, changed: ReadonlyArray<string>, gone: ReadonlyArray<string>): DataLossRefusedError | undefined {
  if (!changed.length && !gone.length) return undefined;
  const what = [changed.length ? `created or changed: ${nameOids(changed)}` : '', gone.length ? `unlinked: ${nameOids(gone)}` : '']
    .filter(Boolean)
    .join('; ');
  const losses = [{ object: 'large objects', what: `changed on green since the switchover, given up by the rollback (${what})` }];
  if (ctx.acceptDataLoss) {
    ctx.findings.acceptedLosses = [...(ctx.findings.acceptedLosses ?? []), ...losses];
    return undefined;
  }
  return new DataLossRefusedError(`rolling back would lose green's changes to large objects since the switchover (${what})`, {
    hint: "Freeze mode keeps no copy of green's writes on blue. Export them first (lo_export), or run again with --accept-data-loss.",
  });
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
  try {
    await countGreenChanges(ctx);
  } catch (error) {
    if (!(error instanceof DataLossRefusedError)) throw error;
    const what = [changed.length ? `created or changed: ${nameOids(changed)}` : '', gone.length ? `unlinked: ${nameOids(gone)}` : '']
      .filter(Boolean)
      .join('; ');
    // Rows and large objects together: the rows' own advice (export them, or accept) comes first.
    return new DataLossRefusedError(
      `${error.message}
  large objects: ${what}`,
      { hint: `${error.hint ?? ''} Large objects: export them with lo_export first.`.trim() },
    );
  }
  return refusal;
}

/** Before the pause: carry every difference (or, freeze mode's rollback, refuse), then remember the state the pause checks against. */
export function carryLargeObjectsStep(ctx: FlipContext): PlanStep {
  const { deps, flip, state, sessions, findings } = ctx;
  const { from, to } = sessions;
  return {
    name: 'carry-large-objects',
    title: refusing(ctx)
      ? `Checking ${flip.from}'s large objects against ${flip.to}'s`
      : `Copying large objects ${flip.from} → ${flip.to} that differ`,
    unbudgeted: true,
    run: async () => {
      // Without a superuser pg_largeobject is unreadable: with none to carry the step has nothing to do.
      const access = [await largeObjectAccess(from), await largeObjectAccess(to)];
      if (access.some((a) => !a.readable)) {
        if (access.every((a) => a.count === 0))
          return { skipped: 'no large objects on either side (pg_largeobject is not readable to this role)' };
        throw new BlockedError(
          `${access[0].count + access[1].count} large objects, and pg_largeobject is not readable to the configured role: they cannot be carried`,
          {
            hint: 'Connect as a role that may read pg_largeobject (a superuser), or move the large objects into bytea columns first.',
          },
        );
      }
      await beginReadAt(from);
      try {
        const [source, target] = [await readLargeObjects(from), await readLargeObjects(to)];
        const copied = readRecord(deps.config, state.id);
        const changed = [...source.values()]
          .filter((lo) => !target.has(lo.oid) || largeObjectDifference(lo, target.get(lo.oid)!).length)
          .map((lo) => lo.oid);
        const targetOnly = [...target.keys()].filter((oid) => !source.has(oid));
        // Unlinked on the side we leave since the last copy; the others were made on the side we go to, and stay.
        const gone = targetOnly.filter((oid) => copied.has(oid));
        const kept = targetOnly.filter((oid) => !copied.has(oid));
        findings.largeObjects = { horizon: await rememberLargeObjects(from) };
        if (!source.size && !target.size) return { skipped: 'no large objects on either side (checked again inside the pause)' };
        if (refusing(ctx)) {
          const refusal = lossOf(ctx, changed, gone);
          if (refusal) throw await withGreenChanges(ctx, refusal, changed, gone);
          return changed.length || gone.length
            ? `ACCEPTED LOSS of green's changes to ${changed.length + gone.length} large objects`
            : `${source.size} large objects, none changed on ${flip.from}`;
        }
        const bytes = await copyLargeObjects(from, to, changed, gone);
        recordLargeObjects(deps.config, state.id, source.keys());
        const keptNote = kept.length ? `; left alone on ${flip.to}, never on ${flip.from}: ${nameOids(kept)}` : '';
        if (!changed.length && !gone.length) return `${source.size} large objects, all equal${keptNote}`;
        return `${changed.length} copied (${(bytes / 1048576).toFixed(1)} MB), ${gone.length} unlinked, of ${source.size}${keptNote}`;
      } finally {
        await from.query('COMMIT');
      }
    },
  };
}

/** Inside the pause, the side we leave frozen: one statement finds what changed since the copy before the pause; only that is copied. */
export function carryLargeObjectsInPauseStep(ctx: FlipContext): PlanStep {
  const { deps, flip, state, sessions, findings } = ctx;
  const { from, to } = sessions;
  return {
    name: 'carry-large-objects-changed',
    title: `Copying large objects changed on ${flip.from} since the copy before the pause`,
    run: async () => {
      if (!findings.largeObjects) return { skipped: 'no copy before the pause to check against' };
      const { changed, gone } = await largeObjectsChangedSince(from, findings.largeObjects.horizon);
      if (refusing(ctx)) {
        const refusal = lossOf(ctx, changed, gone);
        if (refusal) throw refusal;
        return changed.length || gone.length ? `${changed.length + gone.length} more changed: accepted` : 'none changed since';
      }
      if (!changed.length && !gone.length) return 'none changed since';
      const bytes = await copyLargeObjects(from, to, changed, gone);
      const record = readRecord(deps.config, state.id);
      for (const oid of changed) record.add(oid);
      for (const oid of gone) record.delete(oid);
      recordLargeObjects(deps.config, state.id, record);
      return `${changed.length} copied (${(bytes / 1048576).toFixed(1)} MB), ${gone.length} unlinked: ${nameOids([...changed, ...gone])}`;
    },
  };
}
