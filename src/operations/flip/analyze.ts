/** Before the pause: the side traffic goes to gets planner statistics where autovacuum has not yet made them. */
import { analyzeWhereMissing } from '../../adapters/catalog/statistics.js';
import { noted, skipped } from '../operation.js';
import type { FlipOperation } from './context.js';

export const analyze: FlipOperation<void, void> = {
  name: (ctx) => `analyze-${ctx.flip.to}`,
  title: (ctx) => `Making sure ${ctx.flip.to} has planner statistics`,
  unbudgeted: true,
  // Clone leaves statistics to autovacuum; traffic must not reach tables it has not got to yet.
  run: async (ctx) => {
    const analyzed = await analyzeWhereMissing(ctx.sessions.to);
    return analyzed
      ? noted(`analyzed ${analyzed} table${analyzed > 1 ? 's' : ''} autovacuum had not reached`)
      : skipped('every table has statistics');
  },
};
