/** update-extensions: green's extensions at the versions its server offers (a major upgrade's green offers newer ones). */
import { updateExtensions as update } from '../../adapters/database.js';
import type { Operation } from '../operation.js';
import { type CloneCtx, noted, onGreen } from './context.js';

export const updateExtensions: Operation<CloneCtx, void, void> = {
  name: 'update-extensions',
  title: () => "Updating green's extensions to the versions its server offers",
  run: async (ctx) => {
    // A major upgrade's green offers newer extension versions than the dump installed.
    const moved = await onGreen(ctx, update);
    return noted(moved.length ? moved.join(', ') : { skipped: 'every extension is at the version green offers' });
  },
};
