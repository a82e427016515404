/** switchover.verify's step: exact row checks inside the pause, after the drain. */
import { BlueGreenError, BlockedError } from '../core/errors.js';
import { listTables } from '../adapters/catalog/tables.js';
import { buildTableSpec, countRowsOf, keysWrittenSince, tableReader } from '../adapters/content.js';
import { readLastCompare } from './compare.js';
import type { FlipContext } from './flip-plan.js';
import type { PlanStep } from '../operations/runner.js';

/** switchover.verify: inside the pause, after the drain, exactly what the side we leave wrote since the last clean compare. */
export function verifyStep(ctx: FlipContext): PlanStep {
  const { deps, flip, state, sessions } = ctx;
  const { from, to } = sessions;
  return {
    name: 'verify',
    title: `Verifying what ${flip.from} wrote since the last compare`,
    run: async () => {
      // Exact here: the side we leave is frozen and the other has applied all of it.
      const last = readLastCompare(deps.config.stateDir);
      if (!last || last.cutover !== state.id || last.side !== flip.from) {
        throw new BlockedError(`switchover.verify: no clean compare of this cutover with ${flip.from} serving is recorded`, {
          hint: 'Run `bluegreen compare` first; the switchover verifies what was written after it.',
        });
      }
      const toTables = new Set((await listTables(to)).map((t) => t.display));
      const problems: string[] = [];
      let rows = 0;
      for (const t of await listTables(from)) {
        if (!toTables.has(t.display)) continue;
        const { spec, keyUsable } = await buildTableSpec(from, to, t.schema, t.name, flip.from, flip.to);
        const [a, b] = await Promise.all([countRowsOf(from, spec), countRowsOf(to, spec)]);
        if (a !== b) problems.push(`${t.display}: ${a} rows on ${flip.from}, ${b} on ${flip.to}`);
        if (!keyUsable) continue;
        const keys = await keysWrittenSince(from, spec, last.xid);
        rows += keys.length;
        for (let i = 0; i < keys.length; i += 5000) {
          const batch = keys.slice(i, i + 5000);
          const w = await tableReader({ publisher: from, subscriber: to }, spec).rowsByKey(batch);
          const differing = batch.filter((k) => w.publisher.get(k) !== w.subscriber.get(k));
          if (differing.length)
            problems.push(
              `${t.display}: ${differing.length} row${differing.length > 1 ? 's' : ''} written since the last compare differ${differing.length > 1 ? '' : 's'} (key ${differing.slice(0, 3).join(', ')})`,
            );
        }
      }
      if (problems.length) {
        throw new BlueGreenError(`switchover.verify found differences after the drain:\n  ${problems.join('\n  ')}`, {
          hint: `Nothing is switched; ${flip.from} keeps serving. \`bluegreen compare\` names every differing row.`,
        });
      }
      return `${rows} row${rows === 1 ? '' : 's'} written since the compare of ${last.at} equal on both sides; row counts equal`;
    },
  };
}
