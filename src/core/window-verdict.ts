/**
 * The one verdict on the next flip, pure: lossless only when the schema loses nothing AND the replication
 * that keeps the standby current still has what it needs. Status (text, JSON, Prometheus), the guard's
 * built-in window check and a flip's --dry-run all read this, so none of them can say "lossless" while the
 * flip itself would refuse.
 */
import { lostSlotRefusal, type SlotReading, slotGone } from './lost-slot.js';
import type { Loss } from './window.js';

/** `unknown` when a reading failed (a side down): never taken for lossless. */
export type WindowVerdictKind = 'lossless' | 'lossy' | 'unknown';

export interface WindowJudgement {
  readonly verdict: WindowVerdictKind;
  /**
   * Why the next flip cannot be lossless whatever is carried: the replication toward the standby lost WAL it
   * needed or its slot (lostSlotRefusal's words). The flip refuses it even with --accept-data-loss.
   */
  readonly reason?: string;
  /** Why the verdict is unknown ("could not be judged: …"). */
  readonly error?: string;
  readonly notes: ReadonlyArray<string>;
}

export interface WindowJudgementInput {
  readonly next: 'switchover' | 'rollback';
  /** The direction that keeps the standby current (`blue → green` before the switchover). */
  readonly direction: string;
  /** The live reading of that direction's slot; undefined where nothing replicates (freeze mode). */
  readonly slot?: SlotReading;
  /** What the schema (or freeze mode's change counters) says would be lost. */
  readonly losses: ReadonlyArray<Loss>;
  /** Why the schema (or the counters) could not be judged. */
  readonly error?: string;
  readonly notes?: ReadonlyArray<string>;
  /** Why the standby is not whole whatever the slot says (a re-seed cut short): leads, as the flip refuses it. */
  readonly unfinished?: string;
}

export function judgeWindow(input: WindowJudgementInput): WindowJudgement {
  const notes = input.notes ?? [];
  if (input.unfinished) return { verdict: 'lossy', reason: `${input.unfinished}.`, notes };
  const gone = slotGone(input.slot);
  if (gone) {
    // Known lossy whatever the schema says: a schema that could not be read is only a note then.
    const unread = input.error ? [`the schema ${input.error}`] : [];
    return { verdict: 'lossy', reason: lostSlotRefusal(input.direction, input.next, gone), notes: [...notes, ...unread] };
  }
  if (input.slot && 'error' in input.slot) return { verdict: 'unknown', error: `could not be judged: ${input.slot.error}`, notes };
  if (input.error) return { verdict: 'unknown', error: input.error, notes };
  return { verdict: input.losses.length ? 'lossy' : 'lossless', notes };
}

/** Everything a flip now would lose, one line each: the lost replication first, then the schema's losses. */
export function verdictLosses(w: { readonly reason?: string; readonly losses: ReadonlyArray<Loss> }): string[] {
  return [...(w.reason ? [w.reason] : []), ...w.losses.map((l) => `${l.object}: ${l.what}`)];
}

/** The window's verdict in one line, for a flip's --dry-run. */
export function describeVerdict(w: {
  readonly verdict: WindowVerdictKind;
  readonly reason?: string;
  readonly error?: string;
  readonly losses: ReadonlyArray<Loss>;
  readonly pending: ReadonlyArray<string>;
}): string {
  const carry = w.pending.length ? `; sync-schema would carry first: ${w.pending.join('; ')}` : '';
  if (w.reason) {
    const losses = w.losses.map((l) => `${l.object} (${l.what})`).join('; ');
    return `WOULD LOSE: ${w.reason}${losses ? ` Also: ${losses}; refused unless --accept-data-loss` : ''}${carry}`;
  }
  if (w.error) return `whether it would lose anything: ${w.error}`;
  const losses = w.losses.map((l) => `${l.object} (${l.what})`).join('; ');
  return `${w.verdict === 'lossless' ? 'lossless' : `WOULD LOSE: ${losses}; refused unless --accept-data-loss`}${carry}`;
}
