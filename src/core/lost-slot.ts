/**
 * A slot invalidated by max_slot_wal_keep_size (or dropped): what it means for the next flip and the way out,
 * said the same way by status, the window's verdict and the flip's refusal.
 */

/** The live reading of a replication slot on its publisher, or why it could not be read. */
export type SlotReading = { readonly exists: boolean; readonly walStatus?: string } | { readonly error: string };

/** How a slot can no longer keep its subscriber current: invalidated (`lost`) or gone (`missing`); undefined when it can. */
export type SlotGone = 'lost' | 'missing';

/** Whether the reading says the slot lost what its subscriber needs; undefined when it did not, or when it is unknown. */
export function slotGone(reading: SlotReading | undefined): SlotGone | undefined {
  if (!reading || 'error' in reading) return undefined;
  if (!reading.exists) return 'missing';
  return reading.walStatus === 'lost' ? 'lost' : undefined;
}

export function lostSlotRefusal(direction: string, next: 'switchover' | 'rollback', gone: SlotGone = 'lost'): string {
  const [from, to] = direction.split(' → ');
  const what =
    gone === 'lost'
      ? `lost WAL it needed (its slot passed max_slot_wal_keep_size and was invalidated)`
      : `lost its slot (it no longer exists on ${from})`;
  return (
    `The ${next} is no longer lossless: replication ${direction} ${what}, ` +
    `so ${to} lacks writes ${from} took since and can never get them from that slot. The ${next} is refused; ` +
    `${from} keeps serving. ` +
    (next === 'switchover'
      ? 'Clone again'
      : `\`bluegreen reseed\` rebuilds replication ${direction} (${to}'s tables copied again from ${from})`) +
    ` (README: "the slot loses WAL")` +
    (gone === 'lost' ? `, and raise max_slot_wal_keep_size on ${from}.` : '.')
  );
}

/** What to do after a flip refused for a lost slot: not a retry, which meets the same refusal. */
export function lostSlotHint(flip: { readonly from: string; readonly to: string; readonly direction: 'switchover' | 'rollback' }): string {
  const lost = `Replication ${flip.from} → ${flip.to} cannot catch up from its slot:`;
  return flip.direction === 'rollback'
    ? `${lost} run \`bluegreen reseed\` to rebuild it, then \`bluegreen rollback\`.`
    : `${lost} clone again (README: "the slot loses WAL"), then switch over.`;
}

/** Status's advice, led by the refusal when the direction keeping the standby current lost its WAL. */
export function lostSlotAdvice(
  live: { readonly direction: string; readonly walStatus?: string } | undefined,
  serving: 'blue' | 'green',
  advice: string,
): string {
  const next = serving === 'blue' ? 'switchover' : 'rollback';
  if (live?.walStatus === 'unreserved') return `${slotAtRisk(live.direction, next)} ${advice}`;
  if (live?.walStatus !== 'lost') return advice;
  return `${lostSlotRefusal(live.direction, next)} ${advice}`;
}

/** wal_status 'unreserved': the slot holds more than max_slot_wal_keep_size; the next checkpoint may invalidate it. */
export function slotAtRisk(direction: string, next: 'switchover' | 'rollback'): string {
  const [from, to] = direction.split(' → ');
  return (
    `WARNING: replication ${direction} holds more WAL than max_slot_wal_keep_size allows on ${from} (wal_status unreserved): ` +
    `the next checkpoint may invalidate its slot, and then the ${next} is no longer lossless. Let ${to} catch up ` +
    `(its lag is above) or raise max_slot_wal_keep_size on ${from} now.`
  );
}
