/**
 * The serving side publishes again what the standby can take (its tables, in its columns) and makes a
 * new slot: from here on its writes are kept for the standby. Undone by dropping both.
 */
import { tableColumns } from '../../adapters/catalog.js';
import { createPublication, createSlot, dropPublication, dropSlot } from '../../adapters/replication.js';
import type { Operation } from '../operation.js';
import type { PublishedTable, ReseedContext } from './context.js';

export const publish: Operation<ReseedContext, void, { tables: PublishedTable[]; lsn: string }> = {
  name: 'publish',
  title: (ctx) => `Publishing ${ctx.publisher}'s tables in ${ctx.standby}'s columns, with a new slot`,
  run: async (ctx) => {
    const tables = await tablesBothHave(ctx);
    await createPublication(ctx.onPublisher, ctx.link.publication, tables);
    const lsn = await createSlot(ctx.onPublisher, ctx.link.slot);
    return { output: { tables, lsn }, detail: `${tables.length} tables, slot ${ctx.link.slot} at ${lsn}` };
  },
  undo: async (ctx) => {
    await dropSlot(ctx.onPublisher, ctx.link.slot);
    await dropPublication(ctx.onPublisher, ctx.link.publication);
  },
  undone: (ctx) => `slot ${ctx.link.slot} dropped`,
};

/** Only what the standby can take: its tables, its columns. */
async function tablesBothHave(ctx: ReseedContext): Promise<PublishedTable[]> {
  const standby = await tableColumns(ctx.onStandby);
  const serving = await tableColumns(ctx.onPublisher);
  return [...serving.entries()]
    .filter(([key]) => standby.has(key))
    .map(([key, t]) => ({ schema: t.schema, name: t.name, columns: t.columns.filter((c) => standby.get(key)!.columns.includes(c)) }));
}
