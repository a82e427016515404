/**
 * create-slot (replicate mode): the logical slot green's subscription will use, created on a replication
 * connection that exports its snapshot. The connection is live (ctx.live.replication) and held open until
 * the copy has read the snapshot: green then gets every later write exactly once. The slot's name and
 * the snapshot's are the declared output.
 */
import { createSlotWithSnapshot, dropSlot } from '../../adapters/replication.js';
import type { ReplicationLink } from '../../core/state.js';
import type { Operation } from '../operation.js';
import { type CloneCtx, forwardNames, onBlue, release } from './context.js';

export interface SlotOutput {
  readonly slot: string;
  readonly snapshot: string;
  readonly lsn: string;
}

export const createSlot: Operation<CloneCtx, ReplicationLink | undefined, SlotOutput> = {
  name: 'create-slot',
  title: () => 'Creating the replication slot and exporting its snapshot',
  run: async (ctx, names) => {
    if (ctx.deps.config.mode !== 'replicate' || !names) return { skipped: 'freeze mode' };
    const { config } = ctx.deps;
    const replication = await createSlotWithSnapshot(config.blue, names.slot, 'blue', config.secrets);
    ctx.live.replication = replication;
    const output = { slot: names.slot, snapshot: replication.snapshot, lsn: replication.lsn };
    return { output, detail: `${names.slot} at ${replication.lsn}, snapshot ${replication.snapshot}` };
  },
  // A slot blue keeps retains WAL for ever: dropped, by the recorded name when the step did not finish.
  undo: async (ctx, output) => {
    await release(ctx.live);
    if (ctx.deps.config.mode !== 'replicate') return;
    const slot = output?.slot ?? forwardNames(ctx).slot;
    await onBlue(ctx, (blue) => dropSlot(blue, slot));
  },
  undone: () => 'replication slot on blue dropped',
};
