/**
 * What the next flip would carry and lose: both sides' schemas read and judged against the serving
 * side's baseline, with figures on the values a loss gives up, and the refusal those losses make.
 */
import { DataLossRefusedError } from '../../core/errors.js';
import type { CutoverState, Side } from '../../core/state.js';
import { assessWindow, lastPart, type Loss, tableOf, type WindowVerdict } from '../../core/window.js';
import { readSchema } from '../../adapters/catalog.js';
import type { Client } from '../../adapters/pg.js';
import { countValues, readPublished, subscribedTables } from '../../adapters/schema-carry.js';
import type { Deps } from '../../commands/context.js';
import { readBaseline, servingLink } from './baseline.js';

/** Reads both sides and judges what the next flip from `from` to `to` would carry and lose. */
export async function assess(
  deps: Pick<Deps, 'config'>,
  state: CutoverState,
  from: Client,
  to: Client,
  fromSide: Side,
): Promise<WindowVerdict> {
  const link = fromSide === state.serving ? servingLink(state) : undefined;
  const [fromNow, toNow] = await Promise.all([readSchema(from), readSchema(to)]);
  // Published but not (yet) in the standby's subscription counts as not replicated: a sync cut short
  // between extending the publication and refreshing the subscription must not read as covered.
  const subscribed = link ? await subscribedTables(to, link.subscription) : undefined;
  const published = link ? new Map([...(await readPublished(from, link.publication))].filter(([t]) => subscribed!.has(t))) : undefined;
  const verdict = assessWindow({
    from: fromSide,
    to: fromSide === 'blue' ? 'green' : 'blue',
    fromBaseline: readBaseline(deps.config.stateDir, state, fromSide),
    fromNow,
    toNow,
    published,
  });
  // A table PostgreSQL's table sync is still copying (or failing to copy) is not on the standby yet.
  const copying = [...(subscribed ?? new Map<string, string>())]
    .filter(([, st]) => st !== 'r')
    .map(([t]) => ({
      object: `table ${t}`,
      what:
        `still being copied to ${verdict.to} by table sync: a flip now would leave its rows behind ` +
        `(\`bluegreen sync-schema\` waits for it; ${verdict.to}'s log says why if it does not finish)`,
    }));
  return { ...verdict, losses: [...(await withRowCounts(to, verdict.losses)), ...copying] };
}

/** Puts figures on column losses: how many values the standby holds that the flip gives up. */
async function withRowCounts(to: Client, losses: ReadonlyArray<Loss>): Promise<Loss[]> {
  const out: Loss[] = [];
  for (const l of losses) {
    const m = /^column (.+)$/.exec(l.object);
    if (m && /^dropped on/.test(l.what)) {
      // The loss stands either way; its figure, if it cannot be read, is said to be unknown rather than left out.
      const n = await countValues(to, tableOf(m[1]), lastPart(m[1])).catch((error: Error) => `unknown: ${error.message.split('\n')[0]}`);
      out.push({
        ...l,
        what:
          typeof n === 'number' ? `${l.what} (${n} non-null value${n === 1 ? '' : 's'} there now)` : `${l.what} (values there now: ${n})`,
      });
      continue;
    }
    out.push(l);
  }
  return out;
}

/** The losses as an error that refuses a flip (exit 3), naming each and what to do. */
export function lossRefusal(direction: string, v: WindowVerdict): DataLossRefusedError {
  return new DataLossRefusedError(
    `${direction} would lose data on ${v.to}:\n${v.losses.map((l) => `  ${l.object}: ${l.what}`).join('\n')}`,
    {
      hint:
        `Undo the change on ${v.from} (re-add what was dropped) and run \`bluegreen sync-schema\`, or run again with ` +
        '--accept-data-loss to give these up (recorded in the state and the audit log).',
    },
  );
}
