/**
 * restore-indexes (clone.backup "none"): waits for the post-data work the stream started (indexes,
 * constraints, triggers, the foreign keys added and checked by us), then fills the materialized views
 * from green's own tables. Not undone: green keeps its partial copy for inspection.
 */
import { materializedViews, refreshMaterializedViews } from '../../adapters/catalog.js';
import { BlueGreenError } from '../../core/errors.js';
import type { Operation } from '../operation.js';
import { type CloneCtx, noted, onBlue, onGreen } from './context.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const restoreIndexes: Operation<CloneCtx, void, void> = {
  name: 'restore-indexes',
  title: (ctx) => `Building indexes and constraints on green (${ctx.jobs} jobs)`,
  run: async (ctx) => {
    ctx.deps.progress.update('Building indexes and constraints on green; then checking foreign keys');
    const postData = ctx.live.postData;
    if (!postData)
      throw new BlueGreenError('restore-indexes runs after stream-data, which starts the post-data work: the plan is out of order');
    const done = await postData.finish().finally(() => ctx.live.keySessions?.close());
    // A schema-only dump leaves materialized views empty (their rows are "data"): filled from green's
    // own tables, each after those it reads; one blue has not populated stays unpopulated, as pg_restore leaves it.
    const onBlueSide = new Map([...(await onBlue(ctx, materializedViews))].map(([key, v]) => [key, v.populated]));
    const views = await onGreen(ctx, (green) => refreshMaterializedViews(green, onBlueSide));
    const empty = onBlueSide.size - views.length;
    return noted(
      'indexes, constraints, triggers' +
        (done.earlyTables
          ? ` (those of ${done.earlyTables} large table${done.earlyTables > 1 ? 's' : ''} built as their rows landed)`
          : '') +
        `; ${plural(done.keysAdded, 'foreign key')} added, ${done.keysChecked} checked beside the other work` +
        (views.length ? `; ${views.length} materialized view${views.length > 1 ? 's' : ''} filled` : '') +
        (empty > 0 ? `; ${empty} left unpopulated as on blue` : ''),
    );
  },
};
