/**
 * A slot invalidated by max_slot_wal_keep_size: what it means for the next flip and the way out, said the
 * same way by status and by the flip's refusal.
 */
export function lostSlotRefusal(direction: string, next: 'switchover' | 'rollback'): string {
  const [from, to] = direction.split(' → ');
  return (
    `The ${next} is no longer lossless: replication ${direction} lost WAL it needed (its slot passed max_slot_wal_keep_size ` +
    `and was invalidated), so ${to} lacks writes ${from} took since and can never get them from that slot. The ${next} is refused; ` +
    `${from} keeps serving. ` +
    (next === 'switchover'
      ? 'Clone again'
      : `\`bluegreen reseed\` rebuilds replication ${direction} (${to}'s tables copied again from ${from})`) +
    ` (README: "the slot loses WAL"), and raise max_slot_wal_keep_size on ${from}.`
  );
}

/** Status's advice, led by the refusal when the direction keeping the standby current lost its WAL. */
export function lostSlotAdvice(
  live: { readonly direction: string; readonly walStatus?: string } | undefined,
  serving: 'blue' | 'green',
  advice: string,
): string {
  if (live?.walStatus !== 'lost') return advice;
  return `${lostSlotRefusal(live.direction, serving === 'blue' ? 'switchover' : 'rollback')} ${advice}`;
}
