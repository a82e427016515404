/**
 * Freeze mode's flip steps for green's own writes: blue keeps no copy of them, so the switchover
 * starts counting every change green makes (change-counter.ts) and the rollback refuses to give them
 * up without --accept-data-loss, naming each table and what was done to it. Counted before the pause
 * (the refusal comes before anything is paused) and once more after green is frozen, one round trip
 * reading the counters' total, so nothing written in between goes unnamed.
 */
import { DataLossRefusedError } from '../core/errors.js';
import { countRowsWrittenSince } from '../adapters/catalog/written-rows.js';
import {
  changeTotal,
  changesSinceSwitchover,
  installChangeCounter,
  removeChangeCounter,
  type TableChanges,
} from '../adapters/change-counter.js';
import type { FlipContext } from './flip-plan.js';
import type { PlanStep } from '../operations/runner.js';

function describe(w: TableChanges): string {
  const parts = (['inserted', 'updated', 'deleted', 'truncated'] as const).filter((k) => w[k]).map((k) => `${w[k]} ${k}`);
  return `  ${w.table}: ${w.written} row${w.written === 1 ? '' : 's'}${parts.length ? ` (${parts.join(', ')})` : ''}${w.note ? ` (${w.note})` : ''}`;
}

function refusal(lost: ReadonlyArray<TableChanges>, untracked: boolean, when = ''): DataLossRefusedError {
  const total = lost.reduce((s, w) => s + w.written, 0);
  const head = untracked
    ? `rolling back would lose green's writes since the switchover, and they cannot all be counted: this switchover did not install the change counters (made by an earlier version), so deletes and truncates on green are not seen. Rows inserted or updated on green:`
    : `rolling back would lose ${total} row change${total === 1 ? '' : 's'} made on green since the switchover${when}:`;
  return new DataLossRefusedError(`${head}\n${lost.map(describe).join('\n') || '  (none found by xmin)'}`, {
    hint: "Freeze mode keeps no copy of green's writes on blue: a rollback restores blue as it was at the switchover. Export what green changed first, or run again with --accept-data-loss.",
  });
}

/** What was given up, as the flip records it in its state and the audit log. */
function accept(ctx: FlipContext, lost: ReadonlyArray<TableChanges>, untracked: boolean): void {
  const losses = lost.filter((w) => w.written > 0).map((w) => ({ object: `table ${w.table}`, what: describe(w).trim() }));
  if (untracked)
    losses.push({ object: 'every table on green', what: 'changes since the switchover, not counted (deletes and truncates unseen)' });
  // The large objects' step records its own losses: kept, this count's replaced (the recount may run it again).
  const others = (ctx.findings.acceptedLosses ?? []).filter((l) => !l.object.startsWith('table ') && l.object !== 'every table on green');
  ctx.findings.acceptedLosses = others.length || losses.length ? [...others, ...losses] : undefined;
}

/** The switchover's step, before the pause (green is frozen, so nothing is missed): start counting. */
export function startCountingStep(ctx: FlipContext): PlanStep {
  const { to } = ctx.sessions;
  return {
    name: `count-changes-on-${ctx.flip.to}`,
    title: `Counting every change ${ctx.flip.to} makes from now on (for a rollback's refusal)`,
    unbudgeted: true,
    run: async () => `statement-level counters on ${await installChangeCounter(to)} tables`,
    undo: () => removeChangeCounter(to),
    undone: 'change counters removed',
  };
}

/** The rollback's guardrail (before the pause): every change green made, or the refusal naming them. */
export async function countGreenChanges(ctx: FlipContext): Promise<string> {
  const { from } = ctx.sessions;
  const counted = await changesSinceSwitchover(from);
  const lost = counted ?? (await countRowsWrittenSince(from, ctx.state.greenXidAtSwitchover!));
  ctx.findings.lostWrites = lost;
  ctx.findings.changeTotalBeforePause = counted ? await changeTotal(from) : undefined;
  const total = lost.reduce((s, w) => s + w.written, 0);
  if ((total > 0 || !counted) && !ctx.acceptDataLoss) throw refusal(lost, !counted);
  accept(ctx, lost, !counted);
  if (!counted) return `ACCEPTED LOSS of every change on green since the switchover (not counted; ${total} rows written found by xmin)`;
  return total
    ? `ACCEPTED LOSS of ${total} row change${total === 1 ? '' : 's'} made on green: ${lost.map((w) => w.table).join(', ')}`
    : 'green changed nothing since the switchover';
}

/** The rollback's step inside the pause, green frozen: one read of the counters' total; what came since the guardrails is named too. */
export function recountStep(ctx: FlipContext): PlanStep {
  const { from } = ctx.sessions;
  return {
    name: `recount-changes-on-${ctx.flip.from}`,
    title: `Checking ${ctx.flip.from} changed nothing more since the count`,
    // Beside the sequences: its own session, one round trip.
    together: 'after-freeze',
    run: async () => {
      const before = ctx.findings.changeTotalBeforePause;
      if (before === undefined) return { skipped: 'no counters on green: the loss was accepted as a whole' };
      const now = await changeTotal(from);
      if (now === before) return 'nothing more';
      // Rare (a write between the guardrails and the freeze): worth the extra reads inside the pause.
      const lost = (await changesSinceSwitchover(from)) ?? [];
      ctx.findings.lostWrites = lost;
      if (!ctx.acceptDataLoss) throw refusal(lost, false, ' (some of it after the count before the pause)');
      accept(ctx, lost, false);
      return `${(now ?? 0) - before} more row change${(now ?? 0) - before === 1 ? '' : 's'} since the count: accepted`;
    },
  };
}

/** The rollback's last step, after RESUME: green is the standby again, its counters go. */
export function stopCountingStep(ctx: FlipContext): PlanStep {
  const { from } = ctx.sessions;
  return {
    name: `stop-counting-on-${ctx.flip.from}`,
    title: `Removing the change counters from ${ctx.flip.from}`,
    run: async () => void (await removeChangeCounter(from)),
  };
}
