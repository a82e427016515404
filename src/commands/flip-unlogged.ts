/**
 * Unlogged tables at every flip (logical replication cannot carry them). Before the pause: the side
 * traffic leaves is read for its unlogged tables and their row counts; a table over
 * `switchover.unloggedCopyMaxRows`, or one the side we go to lacks, makes the flip refuse (nothing
 * paused yet) naming it and its rows, unless --accept-data-loss, which records it as given up. Inside
 * the pause, after the freeze, when the side we leave holds still: the others' rows replace those on
 * the side we go to, so it starts serving with exactly what the application had there. Freeze mode
 * copies nothing: its switchover follows a clone made with blue frozen (the clone's copy is exact), and
 * its rollback gives up green's writes to them with the rest, named by the change counters
 * (src/operations/flip/green-changes.ts). The flip's steps are src/operations/flip/check-unlogged-tables.ts
 * and copy-unlogged-tables.ts; what they and `status` share is here.
 */
import type { UnloggedTable } from '../adapters/unlogged-tables.js';
import type { FlipContext } from '../operations/flip/context.js';

export function plural(n: number, one: string, many = `${one}s`): string {
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
export function noCopyInFreezeMode(ctx: Pick<FlipContext, 'deps' | 'flip'>): string | undefined {
  if (ctx.deps.config.mode !== 'freeze') return undefined;
  return ctx.flip.direction === 'switchover'
    ? 'blue has been frozen since the clone, whose copy of its unlogged tables is exact'
    : "freeze mode's rollback restores blue as it was at the switchover: green's writes to unlogged tables are counted with the rest";
}
