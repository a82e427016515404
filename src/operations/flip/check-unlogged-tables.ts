/**
 * Before the pause: the side traffic leaves is read for its unlogged tables and their row counts
 * (logical replication cannot carry them). A table over `switchover.unloggedCopyMaxRows`, or one the
 * side we go to lacks, makes the flip refuse (nothing paused yet) naming it and its rows, unless
 * --accept-data-loss, which records it as given up. The output is what the pause copies.
 */
import { DataLossRefusedError } from '../../core/errors.js';
import type { Loss } from '../../core/window.js';
import { readUnloggedTables, type UnloggedTable } from '../../adapters/unlogged-tables.js';
import { noCopyInFreezeMode, plural, splitUnlogged } from '../../commands/flip-unlogged.js';
import { skipped } from '../operation.js';
import type { FlipOperation } from './context.js';

export interface UnloggedBeforePause {
  readonly copy: ReadonlyArray<UnloggedTable>;
  /** The tables left as they are on the side we go to (with --accept-data-loss). */
  readonly losses?: ReadonlyArray<Loss>;
}

export const checkUnlogged: FlipOperation<void, UnloggedBeforePause> = {
  name: 'check-unlogged-tables',
  title: (ctx) =>
    `Checking ${ctx.flip.from}'s unlogged tables ` +
    `(copied inside the pause up to ${ctx.deps.config.switchover.unloggedCopyMaxRows.toLocaleString('en-US')} rows each)`,
  unbudgeted: true,
  run: async (ctx) => {
    const { flip } = ctx;
    const frozen = noCopyInFreezeMode(ctx);
    if (frozen) return skipped(frozen);
    const tables = await readUnloggedTables(ctx.sessions.from, ctx.sessions.to);
    if (!tables.length) return skipped(`${flip.from} has no unlogged tables`);
    const { copy, left } = splitUnlogged(tables, ctx.deps.config.switchover.unloggedCopyMaxRows);
    if (left.length && !ctx.acceptDataLoss) {
      throw new DataLossRefusedError(
        `the ${flip.direction} would leave ${flip.to} without ${flip.from}'s current rows of ${plural(left.length, 'unlogged table')} ` +
          `(logical replication cannot carry them):\n${left.map((t) => `  ${t.display}: ${t.why}`).join('\n')}`,
        {
          hint:
            'Nothing was paused. The flip copies an unlogged table inside the pause when it has at most ' +
            'switchover.unloggedCopyMaxRows rows: raise it (the copy lengthens the write pause), empty the table, ' +
            'make it logged before the clone (ALTER TABLE … SET LOGGED), ' +
            `or run again with --accept-data-loss to leave ${flip.to}'s rows of ${left.length > 1 ? 'them' : 'it'} as they are.`,
        },
      );
    }
    const losses: Loss[] = left.map((t) => ({
      object: `unlogged table ${t.display}`,
      what: `${flip.from}'s ${plural(t.rows, 'row')} not copied to ${flip.to} (${t.why})`,
    }));
    const rows = plural(
      copy.reduce((s, t) => s + t.rows, 0),
      'row',
    );
    const copying = copy.length
      ? `${plural(copy.length, 'table')} (${rows} now) to copy inside the pause: ${copy.map((t) => t.display).join(', ')}`
      : 'none to copy';
    return {
      output: { copy, ...(losses.length ? { losses } : {}) },
      detail: left.length ? `${copying}; ACCEPTED LOSS of ${left.map((t) => `${t.display} (${t.why})`).join(', ')}` : copying,
    };
  },
};
