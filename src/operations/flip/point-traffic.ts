/**
 * The pointer names the side we go to. Not beside the steps before it: once the pointer names the new
 * side, resume takes the sequences and the new slot as done (a kill between them would otherwise leave
 * them undone behind a flipped pointer).
 */
import { sideTarget } from '../../adapters/pointer.js';
import { noted } from '../operation.js';
import type { FlipOperation } from './context.js';

export const pointTraffic: FlipOperation<void, void> = {
  name: 'flip',
  journalBehind: true,
  title: (ctx) => `Pointing traffic at ${ctx.flip.to}`,
  run: async (ctx) => {
    const { config, pointer } = ctx.deps;
    await pointer.flip(sideTarget(config, ctx.flip.to), ctx.flip.to);
    return noted(pointer.description);
  },
  undo: (ctx) => ctx.deps.pointer.flip(sideTarget(ctx.deps.config, ctx.flip.from), ctx.flip.from),
  undone: (ctx) => `pointer back to ${ctx.flip.from}`,
};
