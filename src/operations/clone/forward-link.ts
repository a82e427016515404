/**
 * The forward link's objects (subscription on green, slot and publication on blue) as the operator
 * reads about them when something of them is left: the names stay in the record until they are really
 * gone, and `bluegreen abort` (or the next clone) drops them by those names.
 */
import { withClient } from '../../adapters/pg.js';
import { dropPublication, dropSlot, dropSubscription } from '../../adapters/replication.js';
import type { CutoverState, ReplicationLink } from '../../core/state.js';
import { conn, type Deps } from '../../commands/context.js';

const firstLine = (error: Error) => error.message.split('\n')[0];

/** The sentence for the clone's message: what was dropped, or what is left and how it gets dropped. */
export function forwardLinkNote(notes: ReadonlyArray<string>): string {
  return notes.length
    ? ' Replication cleanup left work (kept in the record; `bluegreen abort` drops them once the side answers; ' +
        `blue keeps WAL for the slot until then): ${notes.join('; ')}.`
    : ' The replication slot and publication on blue were dropped.';
}

/** What a failed drop left, one note a side: `slot X and publication Y on blue: why` when both failed alike. */
export function leftNotes(
  names: ReplicationLink,
  failed: { readonly subscription?: Error; readonly slot?: Error; readonly publication?: Error },
): string[] {
  const notes: string[] = [];
  if (failed.subscription) notes.push(`subscription ${names.subscription} on green: ${firstLine(failed.subscription)}`);
  const { slot, publication } = failed;
  if (slot && publication && firstLine(slot) === firstLine(publication))
    notes.push(`slot ${names.slot} and publication ${names.publication} on blue: ${firstLine(slot)}`);
  else {
    if (slot) notes.push(`slot ${names.slot} on blue: ${firstLine(slot)}`);
    if (publication) notes.push(`publication ${names.publication} on blue: ${firstLine(publication)}`);
  }
  return notes;
}

/**
 * Drops a cutover's forward link by the names its record kept, saying whether anything is left: `left`
 * is true when a drop failed, and the caller must then keep the names in the record. The next clone
 * runs this for an aborted cutover whose failed clone could not drop its slot.
 */
export async function dropForwardLink(deps: Deps, names: CutoverState['forward']): Promise<{ note: string; left: boolean }> {
  if (!names) return { note: '', left: false };
  const failed: { subscription?: Error; slot?: Error } = {};
  await withClient(deps.config.green, (g) => dropSubscription(g, names.subscription), conn(deps, 'green', 'cleanup')).catch(
    (error: Error) => {
      if (!/does not exist/.test(error.message)) failed.subscription = error;
    },
  );
  const onBlue = async (b: Parameters<Parameters<typeof withClient>[1]>[0]) => {
    await dropSlot(b, names.slot);
    await dropPublication(b, names.publication);
  };
  await withClient(deps.config.blue, onBlue, conn(deps, 'blue', 'cleanup')).catch((error: Error) => (failed.slot = error));
  const notes = leftNotes(names, { ...failed, publication: failed.slot });
  return { note: forwardLinkNote(notes), left: notes.length > 0 };
}
