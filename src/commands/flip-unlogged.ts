/**
 * Unlogged tables at every flip (logical replication cannot carry them). Before the pause: the side
 * traffic leaves is read for its unlogged tables and their row counts; a table over
 * `switchover.unloggedCopyMaxRows`, or one the side we go to lacks, makes the flip refuse (nothing
 * paused yet) naming it and its rows, unless --accept-data-loss, which records it as given up. Inside
 * the pause, after the freeze, when the side we leave holds still: the others' rows replace those on
 * the side we go to, so it starts serving with exactly what the application had there. Freeze mode
 * copies nothing: its switchover follows a clone made with blue frozen (the clone's copy is exact), and
 * its rollback gives up green's writes to them with the rest, named by the change counters
 * (flip-freeze-changes.ts).
 */
import { DataLossRefusedError } from '../core/errors.js';
import type { Loss } from '../core/window.js';
import { copyUnloggedTables, readUnloggedTables, type UnloggedTable } from '../adapters/unlogged-tables.js';
import type { FlipContext } from './flip-plan.js';
import type { PlanStep } from '../operations/runner.js';

/** What the check before the pause leaves for the copy inside it. */
export interface UnloggedBeforePause {
  readonly copy: ReadonlyArray<UnloggedTable>;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** The tables the flip copies, and those it cannot (too large, or missing on the side we go to). */
export function splitUnlogged(
  tables: ReadonlyArray<UnloggedTable>,
  maxRows: number,
): { copy: UnloggedTable[]; left: Array<UnloggedTable & { why: string }> } {
  const copy: UnloggedTable[] = [];
  const left: Array<UnloggedTable & { why: string }> = [];
  for (const t of tables) {
    if (!t.onTarget || !t.columns.length) left.push({ ...t, why: `${plural(t.rows, 'row')}; the other side has no such table` });
    else if (t.rows > maxRows)
      left.push({ ...t, why: `${plural(t.rows, 'row')}, over switchover.unloggedCopyMaxRows (${maxRows.toLocaleString('en-US')})` });
    else copy.push(t);
  }
  return { copy, left };
}

/** Why freeze mode copies nothing, or undefined in replicate mode. */
function noCopyInFreezeMode(ctx: FlipContext): string | undefined {
  if (ctx.deps.config.mode !== 'freeze') return undefined;
  return ctx.flip.direction === 'switchover'
    ? 'blue has been frozen since the clone, whose copy of its unlogged tables is exact'
    : "freeze mode's rollback restores blue as it was at the switchover: green's writes to unlogged tables are counted with the rest";
}

/** Before the pause: which unlogged tables the pause copies; the refusal (or the recorded loss) for the rest. */
export function checkUnloggedStep(ctx: FlipContext): PlanStep {
  const { deps, flip, sessions, findings } = ctx;
  const maxRows = deps.config.switchover.unloggedCopyMaxRows;
  return {
    name: 'check-unlogged-tables',
    title: `Checking ${flip.from}'s unlogged tables (copied inside the pause up to ${maxRows.toLocaleString('en-US')} rows each)`,
    unbudgeted: true,
    run: async () => {
      const frozen = noCopyInFreezeMode(ctx);
      if (frozen) return { skipped: frozen };
      const tables = await readUnloggedTables(sessions.from, sessions.to);
      if (!tables.length) return { skipped: `${flip.from} has no unlogged tables` };
      const { copy, left } = splitUnlogged(tables, maxRows);
      if (left.length && !ctx.acceptDataLoss) {
        throw new DataLossRefusedError(
          `the ${flip.direction} would leave ${flip.to} without ${flip.from}'s current rows of ${plural(left.length, 'unlogged table')} (logical replication cannot carry them):\n${left.map((t) => `  ${t.display}: ${t.why}`).join('\n')}`,
          {
            hint: `Nothing was paused. The flip copies an unlogged table inside the pause when it has at most switchover.unloggedCopyMaxRows rows: raise it (the copy lengthens the write pause), empty the table, make it logged before the clone (ALTER TABLE … SET LOGGED), or run again with --accept-data-loss to leave ${flip.to}'s rows of ${left.length > 1 ? 'them' : 'it'} as they are.`,
          },
        );
      }
      const losses: Loss[] = left.map((t) => ({
        object: `unlogged table ${t.display}`,
        what: `${flip.from}'s ${plural(t.rows, 'row')} not copied to ${flip.to} (${t.why})`,
      }));
      if (losses.length) findings.acceptedLosses = [...(findings.acceptedLosses ?? []), ...losses];
      findings.unlogged = { copy };
      const copying = copy.length
        ? `${plural(copy.length, 'table')} (${plural(
            copy.reduce((s, t) => s + t.rows, 0),
            'row',
          )} now) to copy inside the pause: ${copy.map((t) => t.display).join(', ')}`
        : 'none to copy';
      return left.length ? `${copying}; ACCEPTED LOSS of ${left.map((t) => `${t.display} (${t.why})`).join(', ')}` : copying;
    },
  };
}

/** Inside the pause, the side we leave frozen: its unlogged tables' rows replace the other side's. */
export function copyUnloggedStep(ctx: FlipContext): PlanStep {
  const { deps, flip, sessions, findings } = ctx;
  return {
    name: 'copy-unlogged-tables',
    title: `Copying unlogged tables' rows ${flip.from} → ${flip.to}`,
    // Beside the new slot's start and the opening: those use sessions of their own, and nothing reaches the side we go to before RESUME.
    together: 'after-drain',
    run: async () => {
      const frozen = noCopyInFreezeMode(ctx);
      if (frozen) return { skipped: frozen };
      // `resume` after a kill has no finding from before the pause: the side we leave is frozen, so reading it now is exact.
      const copy =
        findings.unlogged?.copy ??
        splitUnlogged(await readUnloggedTables(sessions.from, sessions.to), deps.config.switchover.unloggedCopyMaxRows).copy;
      if (!copy.length) return { skipped: 'no unlogged table to copy' };
      const rows = await copyUnloggedTables(sessions.from, sessions.to, copy);
      return `${plural(rows, 'row')} of ${plural(copy.length, 'table')}: ${copy.map((t) => t.display).join(', ')}`;
    },
  };
}
