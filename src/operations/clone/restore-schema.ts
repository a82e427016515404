/** restore-schema (clone.backup "none"): the tables on green, before their rows; indexes and constraints come after them. */
import type { Operation } from '../operation.js';
import { type BlueFacts, type CloneCtx, noted } from './context.js';
import { restoreSection } from './schema-restore.js';

export const restoreSchema: Operation<CloneCtx, BlueFacts, void> = {
  name: 'restore-schema',
  title: () => 'Creating the tables on green',
  run: async (ctx, { blueMajor, tableCount }) => {
    await restoreSection(ctx, blueMajor, 'pre-data');
    return noted(`${tableCount} tables`);
  },
};
