/**
 * create-green-database: green's database, made like blue's (owner, encoding, locale). Not undone: a
 * failed clone leaves green's partial copy for inspection, and the next clone re-creates it.
 */
import { withDatabase } from '../../core/conninfo.js';
import { createDatabaseLike, databaseExists, readDatabaseProps } from '../../adapters/database.js';
import type { Operation } from '../operation.js';
import { type CloneCtx, onBlue, onGreen } from './context.js';

export const createGreenDatabase: Operation<CloneCtx, void, void> = {
  name: 'create-green-database',
  title: (ctx) => `Preparing green's database "${ctx.database}"`,
  run: async (ctx) => {
    const props = await onBlue(ctx, readDatabaseProps);
    return onGreen(
      ctx,
      async (green) => {
        const exists = await databaseExists(green, ctx.database);
        if (exists && !ctx.resetGreen) {
          await ctx.record.update({ greenDatabaseCreated: true });
          return { output: undefined, detail: 'using the existing empty database' };
        }
        await createDatabaseLike(green, ctx.database, props, exists);
        await ctx.record.update({ greenDatabaseCreated: true });
        return {
          output: undefined,
          detail: `${exists ? 're-created (left from an earlier cutover)' : 'created'}, owner ${props.owner}, ${props.encoding}`,
        };
      },
      withDatabase(ctx.deps.config.green, 'postgres'),
    );
  },
};
