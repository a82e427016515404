/**
 * create-publication (replicate mode): blue publishes its tables for green's subscription. The names of
 * the cutover's forward link (publication, slot, subscription) are this step's output and go into the
 * record, where they stay until the objects are really gone (abort and the next clone drop by them).
 */
import { listTables } from '../../adapters/catalog.js';
import { createPublication as publish, dropPublication, replicationNames } from '../../adapters/replication.js';
import type { ReplicationLink } from '../../core/state.js';
import type { Operation } from '../operation.js';
import { type CloneCtx, forwardNames, onBlue } from './context.js';

export const createPublication: Operation<CloneCtx, void, ReplicationLink> = {
  name: 'create-publication',
  title: () => "Publishing blue's tables for logical replication",
  run: async (ctx) => {
    if (ctx.deps.config.mode !== 'replicate') return { skipped: 'freeze mode: blue is frozen, nothing to replicate' };
    const names = replicationNames(ctx.record.state().id, 'fwd');
    return onBlue(ctx, async (blue) => {
      // PostgreSQL cannot publish an unlogged table: its rows are copied by the clone and not replicated after it.
      const all = await listTables(blue);
      const tables = all.filter((t) => !t.unlogged);
      await publish(blue, names.publication, tables);
      await ctx.record.update({ forward: names });
      const unlogged = all.length - tables.length;
      const left = unlogged ? `; ${unlogged} unlogged left out (rows copied by the clone, not replicated after it)` : '';
      return { output: names, detail: `${names.publication}: ${tables.length} tables${left}` };
    });
  },
  // The name is the cutover's, known without the output: a step that failed halfway is undone too.
  undo: async (ctx, names) => {
    if (ctx.deps.config.mode !== 'replicate') return;
    const publication = names?.publication ?? forwardNames(ctx).publication;
    await onBlue(ctx, (blue) => dropPublication(blue, publication));
  },
  undone: () => 'publication on blue dropped',
};
