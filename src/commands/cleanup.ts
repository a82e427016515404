/** Dropping every replication object of ours on both sides: used by abort and finalize, safe to repeat. */
import { withClient } from '../adapters/pg.js';
import { dropPublication, dropSlot, dropSubscription, ourReplicationObjects } from '../adapters/replication.js';
import { conn, type Deps } from './context.js';

/**
 * Subscriptions first (on both sides), then slots and publications: a slot cannot be dropped while
 * a subscription's walsender holds it. Found by name, not by the record, so nothing leaks even when
 * a controller died before recording what it made. A side that does not exist (green's database
 * after a failed clone) has nothing to drop. Returns how many objects were dropped.
 */
export async function dropAllReplication(deps: Deps, only?: ReadonlyArray<'blue' | 'green'>): Promise<number> {
  // `only`: the sides that answer (a side lost for good keeps its objects until it is fenced on return).
  const sides = [
    { url: deps.config.blue, label: 'blue' as const },
    { url: deps.config.green, label: 'green' as const },
  ].filter((s) => !only || only.includes(s.label));
  let dropped = 0;
  const each = async (fn: (client: Parameters<Parameters<typeof withClient>[1]>[0]) => Promise<number>) => {
    for (const side of sides) {
      try {
        dropped += await withClient(side.url, fn, conn(deps, side.label, 'cleanup'));
      } catch (error) {
        if (!/does not exist/.test((error as Error).message)) throw error;
      }
    }
  };
  await each(async (c) => {
    const { subscriptions } = await ourReplicationObjects(c);
    for (const s of subscriptions) await dropSubscription(c, s);
    return subscriptions.length;
  });
  await each(async (c) => {
    const { slots, publications } = await ourReplicationObjects(c);
    for (const s of slots) await dropSlot(c, s);
    for (const p of publications) await dropPublication(c, p);
    return slots.length + publications.length;
  });
  return dropped;
}
