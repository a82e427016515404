/** switchover.verify: inside the pause, after the drain, exactly what the side we leave wrote since the last clean compare. */
import { BlueGreenError, BlockedError } from '../../core/errors.js';
import { listTables } from '../../adapters/catalog/tables.js';
import { buildTableSpec, countRowsOf, keysWrittenSince, tableReader } from '../../adapters/content.js';
import { readLastCompare } from '../../commands/compare.js';
import { noted } from '../operation.js';
import type { FlipContext, FlipOperation } from './context.js';

/** One table: its row counts, and the rows written since `xid` by key. Adds what differs to `problems`; returns the rows checked. */
async function verifyTable(ctx: FlipContext, t: { schema: string; name: string; display: string }, xid: string, problems: string[]) {
  const { flip } = ctx;
  const { from, to } = ctx.sessions;
  const { spec, keyUsable } = await buildTableSpec(from, to, t.schema, t.name, flip.from, flip.to);
  const [a, b] = await Promise.all([countRowsOf(from, spec), countRowsOf(to, spec)]);
  if (a !== b) problems.push(`${t.display}: ${a} rows on ${flip.from}, ${b} on ${flip.to}`);
  if (!keyUsable) return 0;
  const keys = await keysWrittenSince(from, spec, xid);
  for (let i = 0; i < keys.length; i += 5000) {
    const batch = keys.slice(i, i + 5000);
    const w = await tableReader({ publisher: from, subscriber: to }, spec).rowsByKey(batch);
    const differing = batch.filter((k) => w.publisher.get(k) !== w.subscriber.get(k));
    if (differing.length) {
      const many = differing.length > 1;
      problems.push(
        `${t.display}: ${differing.length} row${many ? 's' : ''} written since the last compare differ${many ? '' : 's'} ` +
          `(key ${differing.slice(0, 3).join(', ')})`,
      );
    }
  }
  return keys.length;
}

export const verify: FlipOperation<void, void> = {
  name: 'verify',
  journalBehind: true,
  title: (ctx) => `Verifying what ${ctx.flip.from} wrote since the last compare`,
  run: async (ctx) => {
    const { deps, flip, state } = ctx;
    // Exact here: the side we leave is frozen and the other has applied all of it.
    const last = readLastCompare(deps.config.stateDir);
    if (!last || last.cutover !== state.id || last.side !== flip.from) {
      throw new BlockedError(`switchover.verify: no clean compare of this cutover with ${flip.from} serving is recorded`, {
        hint: 'Run `bluegreen compare` first; the switchover verifies what was written after it.',
      });
    }
    const toTables = new Set((await listTables(ctx.sessions.to)).map((t) => t.display));
    const problems: string[] = [];
    let rows = 0;
    for (const t of await listTables(ctx.sessions.from)) {
      if (toTables.has(t.display)) rows += await verifyTable(ctx, t, last.xid, problems);
    }
    if (problems.length) {
      throw new BlueGreenError(`switchover.verify found differences after the drain:\n  ${problems.join('\n  ')}`, {
        hint: `Nothing is switched; ${flip.from} keeps serving. \`bluegreen compare\` names every differing row.`,
      });
    }
    return noted(`${rows} row${rows === 1 ? '' : 's'} written since the compare of ${last.at} equal on both sides; row counts equal`);
  },
};
