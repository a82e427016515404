/** Freeze mode's rollback, after RESUME: green is the standby again, its change counters go. */
import { removeChangeCounter } from '../../adapters/change-counter.js';
import { noted } from '../operation.js';
import type { FlipOperation } from './context.js';

export const stopCounting: FlipOperation<void, void> = {
  name: (ctx) => `stop-counting-on-${ctx.flip.from}`,
  title: (ctx) => `Removing the change counters from ${ctx.flip.from}`,
  run: async (ctx) => noted(void (await removeChangeCounter(ctx.sessions.from))),
};
