/**
 * A re-seed cut short leaves blue's copies emptied and not yet whole: every path that would put traffic
 * on blue refuses, with no override (serving an incomplete copy is not a loss one can accept).
 */
import { BlockedError } from './errors.js';
import type { CutoverState } from './state.js';

export function unfinishedReseedRefusal(state: Pick<CutoverState, 'reseeding'>): BlockedError | undefined {
  if (!state.reseeding) return undefined;
  const emptied = state.reseeding.emptiedAt
    ? `blue's copies were emptied at ${state.reseeding.emptiedAt} and are not whole again`
    : 'replication green → blue was dropped to be rebuilt and is not running';
  return new BlockedError(`a re-seed of blue started at ${state.reseeding.startedAt} did not finish: ${emptied}`, {
    hint:
      'Traffic stays on green. Run `bluegreen reseed` (it starts over) and roll back once it has finished; ' +
      '`bluegreen status` shows it.',
  });
}
