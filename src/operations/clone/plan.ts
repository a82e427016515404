/**
 * The clone's runbook. Freeze mode: blue stops taking application writes before the snapshot and the
 * dump is the whole truth. Replicate mode: blue stays open; the snapshot is the one the slot exports,
 * so replication continues exactly where the copy ends. The rows go through a dump kept as the backup
 * (clone.backup "dump"), or stream from the snapshot straight into green ("none": only the schema is
 * dumped). Each step's undo is beside its run; a failure undoes in reverse what started (see failure.ts).
 */
import { type Planned, step } from '../operation.js';
import type { CloneCtx } from './context.js';
import { copyDatabaseSettings } from './copy-database-settings.js';
import { copyLargeObjects } from './copy-large-objects.js';
import { copyRoles } from './copy-roles.js';
import { createGreenDatabase } from './create-green-database.js';
import { createPublication } from './create-publication.js';
import { createSlot } from './create-slot.js';
import { dump } from './dump.js';
import { dumpSchema } from './dump-schema.js';
import { freezeBlue } from './freeze-blue.js';
import { freezeGreen } from './freeze-green.js';
import { restore } from './restore.js';
import { restoreIndexes } from './restore-indexes.js';
import { restoreSchema } from './restore-schema.js';
import { streamData } from './stream-data.js';
import { subscribeGreen } from './subscribe-green.js';
import { updateExtensions } from './update-extensions.js';
import { verifyDump } from './verify-dump.js';

export function clonePlan(ctx: CloneCtx): Planned<CloneCtx>[] {
  return [
    step(freezeBlue),
    step(copyRoles, (o) => o.need(freezeBlue)),
    step(createGreenDatabase),
    step(createPublication),
    step(createSlot, (o) => o.of(createPublication)),
    step(copyLargeObjects, (o) => ({ snapshot: o.of(createSlot)?.snapshot })),
    ...(ctx.streaming ? streamingCopy() : dumpCopy()),
    step(updateExtensions),
    step(copyDatabaseSettings),
    step(freezeGreen),
    step(subscribeGreen, (o) => o.of(createPublication)),
  ];
}

/** The whole dump kept on the controller's disk: the pre-migration backup (clone.backup "dump"). */
function dumpCopy(): Planned<CloneCtx>[] {
  return [
    step(dump, (o) => ({ ...o.need(freezeBlue), snapshot: o.of(createSlot)?.snapshot })),
    step(verifyDump, (o) => o.need(freezeBlue)),
    step(restore, (o) => o.need(freezeBlue)),
  ];
}

/** clone.backup "none": the schema dumped, the rows streamed from the snapshot, indexes and constraints after the data. */
function streamingCopy(): Planned<CloneCtx>[] {
  return [
    step(dumpSchema, (o) => ({ ...o.need(freezeBlue), snapshot: o.of(createSlot)?.snapshot })),
    step(restoreSchema, (o) => o.need(freezeBlue)),
    step(streamData, (o) => ({ ...o.need(freezeBlue), snapshot: o.of(createSlot)?.snapshot, slot: o.of(createSlot)?.slot })),
    step(restoreIndexes),
  ];
}

/** What the clone leaves on each side that only its undo takes away: the forward link's objects. */
export const replicationMade = { blue: [createPublication, createSlot], green: [subscribeGreen] } as const;
