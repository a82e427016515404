/** Dropping every replication object of ours on both sides: used by abort and finalize, safe to repeat. */
import { type Client, withClient } from '../adapters/pg.js';
import { dropPublication, dropSlot, dropSubscription, ourReplicationObjects } from '../adapters/replication.js';
import { conn, type Deps } from './context.js';

/**
 * Runs `fn` on each side (`only`: the sides that answer; a side lost for good keeps its objects until
 * it is fenced on return) and adds up what it returns. A side that does not exist (green's database
 * after a failed clone) has nothing of ours: it counts nothing.
 */
async function onEachSide(deps: Deps, only: ReadonlyArray<'blue' | 'green'> | undefined, fn: (c: Client) => Promise<number>) {
  const sides = [
    { url: deps.config.blue, label: 'blue' as const },
    { url: deps.config.green, label: 'green' as const },
  ].filter((s) => !only || only.includes(s.label));
  let total = 0;
  for (const side of sides) {
    try {
      total += await withClient(side.url, fn, conn(deps, side.label, 'cleanup'));
    } catch (error) {
      if (!/does not exist/.test((error as Error).message)) throw error;
    }
  }
  return total;
}

/** How many replication objects of ours (subscriptions, slots, publications) the sides hold. */
export function countOurReplication(deps: Deps, only?: ReadonlyArray<'blue' | 'green'>): Promise<number> {
  return onEachSide(deps, only, async (c) => {
    const { subscriptions, slots, publications } = await ourReplicationObjects(c);
    return subscriptions.length + slots.length + publications.length;
  });
}

/**
 * Subscriptions first (on both sides), then slots and publications: a slot cannot be dropped while
 * a subscription's walsender holds it. Found by name, not by the record, so nothing leaks even when
 * a controller died before recording what it made. Returns how many objects were dropped.
 */
export async function dropAllReplication(deps: Deps, only?: ReadonlyArray<'blue' | 'green'>): Promise<number> {
  const subscriptions = await onEachSide(deps, only, async (c) => {
    const { subscriptions } = await ourReplicationObjects(c);
    for (const s of subscriptions) await dropSubscription(c, s);
    return subscriptions.length;
  });
  const rest = await onEachSide(deps, only, async (c) => {
    const { slots, publications } = await ourReplicationObjects(c);
    for (const s of slots) await dropSlot(c, s);
    for (const p of publications) await dropPublication(c, p);
    return slots.length + publications.length;
  });
  return subscriptions + rest;
}
