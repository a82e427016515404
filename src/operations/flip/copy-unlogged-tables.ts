/** Inside the pause, the side we leave frozen: its unlogged tables' rows replace the other side's (they are never published). */
import { copyUnloggedTables, readUnloggedTables } from '../../adapters/unlogged-tables.js';
import { noCopyInFreezeMode, plural, splitUnlogged } from '../../commands/flip-unlogged.js';
import { noted, skipped } from '../operation.js';
import type { FlipOperation } from './context.js';
import type { UnloggedBeforePause } from './check-unlogged-tables.js';

export const copyUnlogged: FlipOperation<UnloggedBeforePause | undefined, void> = {
  name: 'copy-unlogged-tables',
  journalBehind: true,
  title: (ctx) => `Copying unlogged tables' rows ${ctx.flip.from} → ${ctx.flip.to}`,
  // Beside the new slot's start and the opening: those use sessions of their own, and nothing reaches the side we go to before RESUME.
  together: 'after-drain',
  run: async (ctx, checked) => {
    const { from, to } = ctx.sessions;
    const frozen = noCopyInFreezeMode(ctx);
    if (frozen) return skipped(frozen);
    // `resume` after a kill has no output from before the pause: the side we leave is frozen, so reading it now is exact.
    const copy = checked?.copy ?? splitUnlogged(await readUnloggedTables(from, to), ctx.deps.config.switchover.unloggedCopyMaxRows).copy;
    if (!copy.length) return skipped('no unlogged table to copy');
    const rows = await copyUnloggedTables(from, to, copy);
    return noted(`${plural(rows, 'row')} of ${plural(copy.length, 'table')}: ${copy.map((t) => t.display).join(', ')}`);
  },
};
