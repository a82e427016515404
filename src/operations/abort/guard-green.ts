/** guard-green: green takes no application writes once the cutover is given up (its copy stays for inspection). */
import { withClient } from '../../adapters/pg.js';
import { freezeWrites } from '../../adapters/write-guard.js';
import { conn } from '../../commands/context.js';
import type { Operation } from '../operation.js';
import type { AbortCtx } from './context.js';

export const guardGreen: Operation<AbortCtx, void, void> = {
  name: 'guard-green',
  title: () => 'Guarding green against writes',
  run: async ({ deps }) => {
    try {
      await withClient(deps.config.green, (c) => freezeWrites(c, 'cutover aborted'), conn(deps, 'green', 'abort'));
    } catch (error) {
      // Green's database may not exist (abort right after a failed clone): nothing to guard.
      if (!/does not exist/.test((error as Error).message)) throw error;
      return { skipped: "green's database does not exist" };
    }
    return { output: undefined };
  },
};
