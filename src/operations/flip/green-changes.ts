/**
 * Freeze mode's flip and green's own writes: blue keeps no copy of them, so the switchover starts counting
 * every change green makes (change-counter.ts) and the rollback refuses to give them up without
 * --accept-data-loss, naming each table and what was done to it. Counted before the pause (the refusal
 * comes before anything is paused) and once more after green is frozen, one round trip reading the
 * counters' total, so nothing written in between goes unnamed. The steps are count-changes.ts,
 * the guardrails, recount-changes.ts and stop-counting.ts; what they share is here.
 */
import { DataLossRefusedError } from '../../core/errors.js';
import type { Loss } from '../../core/window.js';
import { countRowsWrittenSince } from '../../adapters/catalog/written-rows.js';
import { changeTotal, changesSinceSwitchover, type TableChanges } from '../../adapters/change-counter.js';
import type { FlipContext } from './context.js';

/** What the rollback found green changed since the switchover, and what of it is given up. */
export interface GreenChanges {
  readonly lostWrites: ReadonlyArray<TableChanges>;
  /** The losses accepted (with --accept-data-loss), one per table (or one for every table when uncounted). */
  readonly losses: ReadonlyArray<Loss>;
  /** The counters' total at the count, checked again inside the pause; undefined without counters. */
  readonly totalBeforePause?: number;
}

export function describeChanges(w: TableChanges): string {
  const parts = (['inserted', 'updated', 'deleted', 'truncated'] as const).filter((k) => w[k]).map((k) => `${w[k]} ${k}`);
  const kinds = parts.length ? ` (${parts.join(', ')})` : '';
  return `  ${w.table}: ${w.written} row${w.written === 1 ? '' : 's'}${kinds}${w.note ? ` (${w.note})` : ''}`;
}

/** The refusal of green's changes, with the changes it names: the flip's report lists them per table. */
export class ChangesRefusedError extends DataLossRefusedError {
  constructor(
    message: string,
    readonly lostWrites: ReadonlyArray<TableChanges>,
    options: { hint?: string },
  ) {
    super(message, options);
    // The operator's kind of error, as before the changes rode along.
    this.name = 'DataLossRefusedError';
  }
}

export function changesRefusal(lost: ReadonlyArray<TableChanges>, untracked: boolean, when = ''): ChangesRefusedError {
  const total = lost.reduce((s, w) => s + w.written, 0);
  const head = untracked
    ? "rolling back would lose green's writes since the switchover, and they cannot all be counted: " +
      'this switchover did not install the change counters (made by an earlier version), ' +
      'so deletes and truncates on green are not seen. Rows inserted or updated on green:'
    : `rolling back would lose ${total} row change${total === 1 ? '' : 's'} made on green since the switchover${when}:`;
  return new ChangesRefusedError(`${head}\n${lost.map(describeChanges).join('\n') || '  (none found by xmin)'}`, lost, {
    hint:
      "Freeze mode keeps no copy of green's writes on blue: a rollback restores blue as it was at the switchover. " +
      'Export what green changed first, or run again with --accept-data-loss.',
  });
}

/** What was given up, as the flip records it in its state and the audit log. */
export function changeLosses(lost: ReadonlyArray<TableChanges>, untracked: boolean): Loss[] {
  const losses = lost.filter((w) => w.written > 0).map((w) => ({ object: `table ${w.table}`, what: describeChanges(w).trim() }));
  if (untracked)
    losses.push({ object: 'every table on green', what: 'changes since the switchover, not counted (deletes and truncates unseen)' });
  return losses;
}

/** The rollback's guardrail (before the pause): every change green made, or the refusal naming them. */
export async function countGreenChanges(ctx: FlipContext): Promise<{ changes: GreenChanges; detail: string }> {
  const { from } = ctx.sessions;
  const counted = await changesSinceSwitchover(from);
  const lost = counted ?? (await countRowsWrittenSince(from, ctx.state.greenXidAtSwitchover!));
  const totalBeforePause = counted ? await changeTotal(from) : undefined;
  const total = lost.reduce((s, w) => s + w.written, 0);
  if ((total > 0 || !counted) && !ctx.acceptDataLoss) throw changesRefusal(lost, !counted);
  const changes = { lostWrites: lost, losses: changeLosses(lost, !counted), totalBeforePause };
  if (!counted)
    return {
      changes,
      detail: `ACCEPTED LOSS of every change on green since the switchover (not counted; ${total} rows written found by xmin)`,
    };
  return {
    changes,
    detail: total
      ? `ACCEPTED LOSS of ${total} row change${total === 1 ? '' : 's'} made on green: ${lost.map((w) => w.table).join(', ')}`
      : 'green changed nothing since the switchover',
  };
}
