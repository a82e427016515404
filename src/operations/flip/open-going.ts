/** Inside the pause: the side traffic goes to takes writes (nothing reaches it before RESUME, so beside the slot's start). */
import { freezeWrites, openInOneTrip } from '../../adapters/write-guard.js';
import type { FlipOperation } from './context.js';

export interface Opened {
  /** The side's transaction id as it opened: freeze mode's rollback counts green's writes from here. */
  readonly xid: string;
}

export const openGoing: FlipOperation<void, Opened> = {
  name: (ctx) => `open-${ctx.flip.to}`,
  journalBehind: true,
  title: (ctx) => `Opening ${ctx.flip.to} for writes`,
  together: 'after-drain',
  run: async (ctx) => ({ output: { xid: await openInOneTrip(ctx.sessions.toOpen) } }),
  undo: async (ctx) => void (await freezeWrites(ctx.sessions.toOpen, `${ctx.flip.direction} aborted`, { install: false })),
  undone: (ctx) => `${ctx.flip.to} frozen again`,
};
