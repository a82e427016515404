/**
 * The events a cutover emits, for the notify hook: every phase change, every flip (done or undone),
 * every command that failed or was blocked. Pure: derived from the record before and after a save,
 * and from the audit log's entries.
 */
import type { AuditEntry, CutoverState } from './state.js';
import type { GuardEventType } from './guard.js';

export type CutoverEvent =
  | {
      readonly type: 'phase';
      readonly at: string;
      readonly cutover: string;
      readonly from: string;
      readonly to: string;
      readonly by: string;
      readonly event: string;
    }
  | {
      readonly type: 'flip';
      readonly at: string;
      readonly cutover: string;
      readonly kind: 'switchover' | 'rollback';
      readonly ok: boolean;
      readonly writePauseMs?: number;
      readonly error?: string;
      readonly acceptedLosses?: ReadonlyArray<{ readonly object: string; readonly what: string }>;
    }
  | {
      readonly type: 'failure';
      readonly at: string;
      readonly cutover?: string;
      readonly command: string;
      readonly outcome: 'failed' | 'blocked';
      readonly detail?: string;
    }
  | {
      readonly type: GuardEventType;
      readonly at: string;
      readonly cutover: string;
      readonly decision: string;
      readonly failures: number;
      readonly failing: ReadonlyArray<string>;
      readonly detail?: string;
    };

/** What changed between two versions of the record, in the order it happened. */
export function eventsOfSave(before: CutoverState | undefined, after: CutoverState): CutoverEvent[] {
  const out: CutoverEvent[] = [];
  const sameCutover = before?.id === after.id;
  const seenHistory = sameCutover ? before!.history.length : 0;
  let phase = sameCutover ? before!.phase : 'idle';
  for (const h of after.history.slice(seenHistory)) {
    out.push({ type: 'phase', at: h.at, cutover: after.id, from: phase, to: h.phase, by: h.by, event: h.event });
    phase = h.phase;
  }
  const seenFlips = sameCutover ? before!.flips.length : 0;
  for (const f of after.flips.slice(seenFlips)) {
    out.push({
      type: 'flip',
      at: f.at,
      cutover: after.id,
      kind: f.kind,
      ok: f.ok,
      writePauseMs: f.writePauseMs,
      error: f.error,
      acceptedLosses: f.acceptedLosses,
    });
  }
  return out;
}

export function eventOfAudit(entry: AuditEntry): CutoverEvent | undefined {
  if (entry.outcome !== 'failed' && entry.outcome !== 'blocked') return undefined;
  return { type: 'failure', at: entry.at, cutover: entry.cutover, command: entry.command, outcome: entry.outcome, detail: entry.detail };
}
