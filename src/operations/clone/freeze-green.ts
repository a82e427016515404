/**
 * freeze-green: green guarded against application writes until the switchover, its schema recorded for
 * compare, and the DDL log on both sides. Not undone: a failed clone leaves green guarded, for
 * inspection; the next clone re-creates it.
 */
import { readSchema } from '../../adapters/catalog.js';
import { installDdlLog } from '../../adapters/ddl-log.js';
import { schemaFile, writeFileAtomic } from '../../adapters/state-store.js';
import { allowOwnWrites, freezeWrites } from '../../adapters/write-guard.js';
import type { Operation } from '../operation.js';
import { type CloneCtx, noted, onBlue, onGreen } from './context.js';

export const freezeGreen: Operation<CloneCtx, void, void> = {
  name: 'freeze-green',
  title: () => 'Guarding green against application writes until the switchover',
  run: async (ctx) => {
    // Each side records its own schema changes from here on: status shows them during the window.
    await onBlue(ctx, installDdlLog);
    return onGreen(ctx, async (green) => {
      await freezeWrites(green, 'green before switchover');
      await allowOwnWrites(green);
      await installDdlLog(green);
      writeFileAtomic(schemaFile(ctx.deps.config.stateDir, ctx.record.state().id, 'at-clone'), JSON.stringify(await readSchema(green)));
      return noted('schema recorded for compare; DDL logged on both sides');
    });
  },
};
