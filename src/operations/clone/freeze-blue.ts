/**
 * freeze-blue: in freeze mode blue stops taking application writes before the snapshot (and stays
 * frozen until the switchover or an abort); in replicate mode only the write guard is installed, not
 * frozen. Also reads what the copy steps need of blue: its major and its number of tables.
 */
import { listTables } from '../../adapters/catalog.js';
import { ensureHeartbeat } from '../../adapters/replication.js';
import { serverMajor } from '../../adapters/pg.js';
import { freezeWrites, installWriteGuard, unfreezeWrites } from '../../adapters/write-guard.js';
import type { Operation } from '../operation.js';
import { type BlueFacts, type CloneCtx, onBlue } from './context.js';

export interface FreezeBlueOutput extends BlueFacts {
  /** Blue was frozen (freeze mode); in replicate mode it keeps taking writes and there is nothing to undo. */
  readonly frozen: boolean;
}

export const freezeBlue: Operation<CloneCtx, void, FreezeBlueOutput> = {
  name: 'freeze-blue',
  title: (ctx) => (ctx.deps.config.mode === 'freeze' ? 'Freezing writes on blue (reads go on)' : 'Installing the write guard on blue'),
  run: (ctx) =>
    onBlue(ctx, async (blue) => {
      const facts = { blueMajor: await serverMajor(blue), tableCount: (await listTables(blue)).length };
      if (ctx.deps.config.mode !== 'freeze') {
        // Blue is live: creating the guard's triggers must not queue behind a long transaction and stall writers.
        const guarded = await installWriteGuard(blue, { lockTimeout: '5s' });
        await ensureHeartbeat(blue);
        return {
          output: { ...facts, frozen: false },
          detail: `guard installed on ${guarded} tables, not frozen: blue takes writes throughout`,
        };
      }
      const ended = await freezeWrites(blue, `clone ${ctx.record.state().id} in freeze mode`);
      await ctx.record.update({ blueFrozen: true });
      const detail = `application writes now refused${ended ? `; ended ${ended} open transaction${ended > 1 ? 's' : ''}` : ''}`;
      return { output: { ...facts, frozen: true }, detail };
    }),
  // Without an output (the step failed, or a controller died in it) blue may be frozen: unfreezing is safe to repeat.
  undo: async (ctx, output) => {
    if (output && !output.frozen) return;
    await onBlue(ctx, unfreezeWrites);
    await ctx.record.update({ blueFrozen: false });
  },
  undone: () => 'blue unfrozen',
};
