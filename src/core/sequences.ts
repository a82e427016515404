/**
 * Sequence arithmetic for the flip, pure: which of two values is further along a sequence (a
 * descending sequence moves down), and how far ahead to set a busy sequence on the side we go to
 * before the pause, so the pause itself need not set it.
 */

export interface SequenceShape {
  /** pg_sequence.seqincrement, seqmin, seqmax and seqcycle, bigints as text. */
  readonly increment: string;
  readonly min: string;
  readonly max: string;
  readonly cycle: boolean;
}

/** Whether `a` is further along the sequence than `b` (null: never called, before everything). */
export function isPast(a: string | null, b: string | null, increment: string): boolean {
  if (a === null) return false;
  if (b === null) return true;
  return BigInt(increment) > 0n ? BigInt(a) > BigInt(b) : BigInt(a) < BigInt(b);
}

/** The value further along of the two. */
export function furthest(a: string | null, b: string | null, increment: string): string | null {
  return isPast(a, b, increment) ? a : b;
}

/**
 * Where to set a sequence that moved from `before` to `now` over `elapsedMs` while we watched: ahead by
 * what it would take in `horizonMs` at that pace (at least one increment), never past its bound. A
 * sequence that cycles is not moved ahead (wrapping would break "never backwards"); nor is one that
 * did not move. Gaps are within a sequence's contract; reusing a value is not.
 */
export function aheadOf(
  before: string | null,
  now: string | null,
  elapsedMs: number,
  shape: SequenceShape,
  horizonMs: number,
): string | null {
  if (now === null || shape.cycle || !isPast(now, before, shape.increment)) return now;
  const step = BigInt(shape.increment);
  const moved =
    before === null ? (step > 0n ? BigInt(now) - BigInt(shape.min) : BigInt(shape.max) - BigInt(now)) : BigInt(now) - BigInt(before);
  const distance = moved < 0n ? -moved : moved;
  const ratio = BigInt(Math.max(1, Math.ceil(horizonMs / Math.max(elapsedMs, 1))));
  const unit = step < 0n ? -step : step;
  // Whole increments: a sequence stepping by 10 from 3 keeps handing out values ending in 3.
  let ahead = ((distance * ratio + unit - 1n) / unit) * unit;
  if (ahead < unit) ahead = unit;
  const room = ((step > 0n ? BigInt(shape.max) - BigInt(now) : BigInt(now) - BigInt(shape.min)) / unit) * unit;
  if (ahead > room) ahead = room;
  return (step > 0n ? BigInt(now) + ahead : BigInt(now) - ahead).toString();
}
