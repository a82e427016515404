/** Before the pause (replicate mode): the new direction's publication and slot on the side we go to, in the side we leave's columns. */
import { tableColumns } from '../../adapters/catalog/tables.js';
import { createPublication, createSlot, dropPublication, dropSlot } from '../../adapters/replication.js';
import type { FlipOperation } from './context.js';

export interface ReversePrepared {
  readonly publication: string;
  readonly slot: string;
}

export const prepareReverse: FlipOperation<void, ReversePrepared> = {
  name: 'prepare-reverse',
  title: (ctx) => `Preparing replication ${ctx.flip.to} → ${ctx.flip.from} (publication and slot)`,
  run: async (ctx) => {
    const { from, to } = ctx.sessions;
    const { publication, slot } = ctx.next;
    const fromTables = await tableColumns(from);
    const toTables = await tableColumns(to);
    // Only what the side we leave can take: its tables, its columns.
    const tables = [...toTables.entries()]
      .filter(([key]) => fromTables.has(key))
      .map(([key, t]) => ({ schema: t.schema, name: t.name, columns: t.columns.filter((c) => fromTables.get(key)!.columns.includes(c)) }));
    await createPublication(to, publication, tables);
    await createSlot(to, slot);
    return { output: { publication, slot }, detail: `${tables.length} tables, in ${ctx.flip.from}'s columns` };
  },
  // What the run recorded it made; the names the flip would have used when it failed before recording them.
  undo: async (ctx, made) => {
    const { publication, slot } = made ?? ctx.next;
    await dropSlot(ctx.sessions.to, slot);
    await dropPublication(ctx.sessions.to, publication);
  },
  undone: (ctx) => `slot ${ctx.next.slot} dropped`,
};
