/** Before the pause: the side traffic goes to serves its materialized views fresh. */
import { refreshMaterializedViews as refresh } from '../../adapters/catalog/materialized-views.js';
import { noted, skipped } from '../operation.js';
import type { FlipOperation } from './context.js';

export const refreshMaterializedViews: FlipOperation<void, void> = {
  name: 'refresh-materialized-views',
  title: (ctx) => `Refreshing materialized views on ${ctx.flip.to}`,
  unbudgeted: true,
  run: async (ctx) => {
    const refreshed = await refresh(ctx.sessions.to);
    if (!refreshed.length) return skipped(`${ctx.flip.to} has no materialized views`);
    return noted(refreshed.map((r) => `${r.view} ${r.ms} ms${r.concurrently ? ' (concurrently)' : ''}`).join(', '));
  },
};
