/** The schema part of carry actions, run on the standby in the order they depend on each other. */
import type { CarryAction } from '../../core/window.js';
import { carryPartitions, isPartitionAction } from '../../adapters/partition-carry.js';
import type { Client } from '../../adapters/pg.js';
import { type CarryOutcome, carrySchema } from '../../adapters/schema-carry.js';

/**
 * Runs the schema part of carry actions on `to`: partitions between the tables they belong to and the
 * columns, keys and indexes that follow.
 */
export async function carrySchemaInOrder(
  from: Client,
  to: Client,
  actions: ReadonlyArray<CarryAction>,
): Promise<Pick<CarryOutcome, 'tablesToSync' | 'columnsToCopy'>> {
  const cut = actions.findIndex(isPartitionAction);
  const head = cut < 0 ? actions : actions.slice(0, cut);
  const tail = cut < 0 ? [] : actions.slice(cut).filter((a) => !isPartitionAction(a));
  const first = await carrySchema(from, to, head);
  await carryPartitions(from, to, actions.filter(isPartitionAction));
  const second = await carrySchema(from, to, tail);
  return {
    tablesToSync: [...first.tablesToSync, ...second.tablesToSync],
    columnsToCopy: [...first.columnsToCopy, ...second.columnsToCopy],
  };
}
