/**
 * open-blue: blue takes writes again, whatever froze it (the clone in freeze mode, an interrupted
 * switchover). Blue lost before the switchover: what can be undone on green and the pointer is, and
 * the output says blue is gone, so the later steps leave blue's part for an abort once it answers.
 */
import { withClient } from '../../adapters/pg.js';
import { unfreezeWrites } from '../../adapters/write-guard.js';
import { conn } from '../../commands/context.js';
import { sideUnreachable } from '../../commands/rollback-without-green.js';
import type { Operation } from '../operation.js';
import type { AbortCtx, BlueReach } from './context.js';

export const openBlue: Operation<AbortCtx, void, BlueReach> = {
  name: 'open-blue',
  title: () => 'Opening blue for writes',
  run: async ({ deps }) => {
    const blueGone = await sideUnreachable(deps, 'blue');
    if (blueGone) return { skipped: `blue is unreachable (${blueGone})`, output: { blueGone } };
    await withClient(deps.config.blue, unfreezeWrites, conn(deps, 'blue', 'abort'));
    return { output: {} };
  },
};
