/**
 * Before the guardrails and the budget, so waiting for a session costs clients nothing: sessions on the
 * side we leave that would hold the pause are waited for, cancelled or ended, as configured. In replicate
 * mode the side traffic goes to is looked at too: a transaction open there holds the new direction's slot
 * (PostgreSQL waits for it to end to build the slot's snapshot). It is only waited for and named, never
 * acted on: no application uses that side yet.
 */
import { BlockedError } from '../../core/errors.js';
import { blockerPolicy, clearBlockers } from '../../commands/flip-blockers.js';
import { noted, skipped } from '../operation.js';
import { type FlipContext, type FlipOperation, preparesReverse } from './context.js';

/** The side traffic goes to, looked at for what would hold the new slot: none without a reverse direction. */
async function clearNewSlotSide(ctx: FlipContext): Promise<void> {
  const { flip } = ctx;
  const policy = { ...blockerPolicy(ctx.deps, ctx.blockers), action: 'wait' as const };
  await clearBlockers(ctx.sessions.to, flip.to, policy, async () => undefined).catch((error: Error) => {
    const message = error.message.replace('would hold the pause', `would hold the ${flip.to} → ${flip.from} slot this flip makes`);
    throw new BlockedError(message, {
      hint: `They are not the application's (${flip.to} takes no traffic yet): end them (pg_stat_activity on ${flip.to}), then retry.`,
    });
  });
}

export const blockers: FlipOperation<void, void> = {
  name: 'blockers',
  title: (ctx) =>
    `Looking for sessions on ${ctx.flip.from} that would hold the pause` +
    `${preparesReverse(ctx) ? ` (and on ${ctx.flip.to}, the new slot)` : ''}`,
  unbudgeted: true,
  run: async (ctx) => {
    const { deps, flip } = ctx;
    const policy = blockerPolicy(deps, ctx.blockers);
    if (preparesReverse(ctx)) await clearNewSlotSide(ctx);
    const { found, actions, waitedMs } = await clearBlockers(ctx.sessions.from, flip.from, policy, async (line, how) => {
      deps.progress.update(line);
      // Acting on someone else's session is recorded as it happens, whatever the flip's outcome.
      await deps.store.audit({
        at: new Date().toISOString(),
        by: deps.who,
        command: flip.direction,
        outcome: how === 'cancel' ? 'query-cancelled' : 'session-ended',
        detail: line,
      });
    });
    if (!found) return skipped(`no transaction open longer than ${policy.minAgeMs} ms on ${flip.from}`);
    const did = actions.length ? `${actions.join('; ')}; ` : '';
    const how = actions.length ? 'after that' : '(their transactions ended by themselves)';
    return noted(`${did}${found} session${found > 1 ? 's' : ''} no longer holding the pause ${how} within ${waitedMs} ms`);
  },
};
