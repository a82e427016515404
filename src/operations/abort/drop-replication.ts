/**
 * drop-replication: the clone's own undo of what it made for replication, from its journal (by the
 * names it recorded), then whatever else of ours is found by name (the flips' links, an object a
 * killed controller made before it could record it). With blue gone, green's side only: blue's slot
 * and publication wait for an abort once blue answers.
 */
import { countOurReplication, dropAllReplication } from '../../commands/cleanup.js';
import { undoRecordedReplication } from '../clone/recorded.js';
import type { Operation } from '../operation.js';
import type { AbortCtx, BlueReach } from './context.js';

export const dropReplication: Operation<AbortCtx, BlueReach, void> = {
  name: 'drop-replication',
  title: () => 'Dropping the replication slots, publications and subscriptions of this cutover',
  run: async ({ deps, state }, { blueGone }) => {
    const sides = blueGone ? (['green'] as const) : undefined;
    const found = await countOurReplication(deps, sides);
    await undoRecordedReplication(deps, state, sides);
    await dropAllReplication(deps, sides);
    if (!found) return { skipped: 'none' };
    return { output: undefined, detail: `${found} dropped${blueGone ? " on green (blue's slot and publication wait for it)" : ''}` };
  },
};
