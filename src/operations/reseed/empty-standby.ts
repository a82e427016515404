/**
 * The standby's copies of the published tables are emptied (as the apply worker writes: no trigger, no
 * foreign key check), so table sync can copy each whole. The standby serves nobody: nothing is lost.
 */
import { emptyForResync } from '../../adapters/schema-carry.js';
import { quoteQualified } from '../../core/quote.js';
import type { Operation } from '../operation.js';
import type { PublishedTable, ReseedContext } from './context.js';

export const emptyStandby: Operation<ReseedContext, { tables: ReadonlyArray<PublishedTable> }, { emptied: number }> = {
  name: 'empty-standby',
  title: (ctx) => `Emptying ${ctx.standby}'s copies of the published tables`,
  run: async (ctx, { tables }) => {
    await ctx.markEmptied();
    // The drain's heartbeat is published too (its one row comes back with the copy).
    for (const t of [...tables, { schema: 'bluegreen', name: 'heartbeat' }])
      await emptyForResync(ctx.onStandby, quoteQualified(t.schema, t.name));
    return { output: { emptied: tables.length }, detail: `${tables.length} tables emptied, and the drain's heartbeat` };
  },
};
