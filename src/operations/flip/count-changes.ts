/** Freeze mode's switchover, before the pause (green is frozen, so nothing is missed): green starts counting its changes. */
import { installChangeCounter, removeChangeCounter } from '../../adapters/change-counter.js';
import { noted } from '../operation.js';
import type { FlipOperation } from './context.js';

export const countChanges: FlipOperation<void, void> = {
  name: (ctx) => `count-changes-on-${ctx.flip.to}`,
  title: (ctx) => `Counting every change ${ctx.flip.to} makes from now on (for a rollback's refusal)`,
  unbudgeted: true,
  run: async (ctx) => noted(`statement-level counters on ${await installChangeCounter(ctx.sessions.to)} tables`),
  undo: (ctx) => removeChangeCounter(ctx.sessions.to),
  undone: () => 'change counters removed',
};
