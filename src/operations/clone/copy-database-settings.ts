/** copy-database-settings: what belongs to the database itself (settings, grants, comment), which pg_dump without --create leaves out. */
import { applyDatabaseLevel, readDatabaseLevel } from '../../adapters/database-level.js';
import type { Operation } from '../operation.js';
import { type CloneCtx, noted, onBlue, onGreen } from './context.js';

export const copyDatabaseSettings: Operation<CloneCtx, void, void> = {
  name: 'copy-database-settings',
  title: () => 'Copying database settings, grants and comment to green',
  run: async (ctx) => {
    // pg_dump without --create leaves out what belongs to the database itself.
    const level = await onBlue(ctx, readDatabaseLevel);
    const { applied, skipped } = await onGreen(ctx, (green) => applyDatabaseLevel(green, level));
    if (!applied && !skipped.length) return { skipped: 'blue has no database-level settings, grants or comment' };
    return noted(`${applied} applied${skipped.length ? `; skipped: ${skipped.join(', ')}` : ''}`);
  },
};
