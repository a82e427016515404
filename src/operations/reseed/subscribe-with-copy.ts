/**
 * The standby subscribes again with copy_data: PostgreSQL's table sync copies every table at a
 * snapshot and then applies the changes since, table by table. Undone by dropping the subscription.
 */
import { createSubscription, dropSubscription } from '../../adapters/replication.js';
import { waitForTableSync } from '../../adapters/schema-carry.js';
import type { Operation } from '../operation.js';
import type { ReseedContext } from './context.js';

export const subscribeWithCopy: Operation<ReseedContext, void, null> = {
  name: 'subscribe-with-copy',
  title: (ctx) => `Subscribing ${ctx.standby} to ${ctx.publisher} again, copying every table`,
  run: async (ctx) => {
    await createSubscription(ctx.onStandby, ctx.link, ctx.deps.config.addresses[ctx.publisher].peer, true);
    return { output: null, detail: `${ctx.link.subscription} created` };
  },
  undo: (ctx) => dropSubscription(ctx.onStandby, ctx.link.subscription),
  undone: (ctx) => `subscription ${ctx.link.subscription} dropped`,
};

export const copyTables: Operation<ReseedContext, void, { ms: number }> = {
  name: 'copy-tables',
  title: (ctx) => `Waiting for table sync to copy every table to ${ctx.standby}`,
  unbudgeted: true,
  run: async (ctx) => {
    const start = performance.now();
    await waitForTableSync(ctx.onStandby, ctx.link.subscription, 60 * 60_000, (pending) =>
      ctx.deps.progress.info(`  ${pending} table${pending > 1 ? 's' : ''} still copying`),
    );
    const ms = Math.round(performance.now() - start);
    return { output: { ms }, detail: `every table copied in ${ms} ms; changes since stream on` };
  },
};
