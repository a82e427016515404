/** What a flip says and refuses when the infrastructure under it failed: a PgBouncer restarted in the pause, a lost slot. */
import { BlockedError } from '../core/errors.js';
import { lostSlotRefusal, slotGone } from '../core/lost-slot.js';
import type { Client } from '../adapters/pg.js';
import type { Pointer } from '../adapters/pointer.js';
import { slotLag } from '../adapters/replication.js';
import type { FlipDirection } from '../operations/flip/context.js';

/** The refusal of a flip whose replication lost its slot's WAL (or its slot): retrying cannot help, only the way out. */
export class LostSlotError extends BlockedError {}

/**
 * A slot past max_slot_wal_keep_size (or dropped) is gone for good: refused before anything is paused, whatever the
 * subscription's state. The same reading and words as the window's verdict (judgeWindow).
 */
export async function refuseLostSlot(publisher: Client, slot: string, flip: FlipDirection): Promise<void> {
  const gone = slotGone(await slotLag(publisher, slot));
  if (!gone) return;
  throw new LostSlotError(lostSlotRefusal(`${flip.from} → ${flip.to}`, flip.direction, gone), {
    hint: "`bluegreen status` shows the slot's wal_status; nothing was paused or frozen.",
  });
}

/**
 * A PgBouncer restarted inside the pause held no one from then on: what clients saw instead of a wait, for
 * RESUME's line (empty when every admin connection held).
 */
export function pgbouncerRestartNote(pointer: Pick<Pointer, 'reconnected'>, flip: FlipDirection): string {
  const cut = pointer.reconnected();
  if (!cut.length) return '';
  return (
    `; BUT the admin connection to PgBouncer ${cut.join(', ')} was cut inside the pause and opened again (restarted?): ` +
    "a restarted PgBouncer is not paused and drops its clients' connections, so from then on clients got errors instead of waiting " +
    `(${flip.from}'s freeze refused their writes; none landed on ${flip.from} after the freeze, ` +
    'and the drain covered every write before it)'
  );
}
