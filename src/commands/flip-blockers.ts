/**
 * The flip's look at the application before it pauses: sessions on the side traffic leaves that
 * would hold PgBouncer's PAUSE (a transaction open, a long query) are waited for unpaused, their
 * queries cancelled, or their sessions ended, as configured; whatever is left is refused before
 * anything is paused, naming each session. And the pooler's mode: only transaction pooling lets
 * PAUSE hold clients between transactions. The step is src/operations/flip/blockers.ts.
 */
import { actOn, type Blocker, type BlockerAction, type BlockerPolicy, describeBlocker, poolModeRefusals } from '../core/blockers.js';
import { BlockedError, TimeoutError } from '../core/errors.js';
import type { Side } from '../core/state.js';
import type { Client } from '../adapters/pg.js';
import { pauseBlockers, signalBackend } from '../adapters/sessions.js';
import type { Deps } from './context.js';

/** The configured policy, with the command's `--blockers` choice over the config's. */
export function blockerPolicy(deps: Pick<Deps, 'config'>, action?: BlockerAction): BlockerPolicy {
  return { ...deps.config.switchover.blockers, ...(action ? { action } : {}) };
}

const HINT =
  'Let them finish, or run again with --blockers cancel (cancels their running queries) or --blockers terminate ' +
  '(ends their sessions: their open transactions roll back, nothing they were told was committed is lost). ' +
  'switchover.blockers in the config sets the default.';

export function refusal(
  side: Side,
  found: ReadonlyArray<Blocker>,
  waitedMs: number,
  actions: ReadonlyArray<string>,
  action: BlockerAction = 'wait',
): BlockedError {
  const list = found.map((b) => `  ${describeBlocker(b)}`).join('\n');
  const did = actions.length ? `\n${actions.map((a) => `  (${a})`).join('\n')}` : '';
  // A cancel stops a running query; a session idle in a transaction runs none, so only ending it (or its own commit) clears it.
  const idle = found.some((b) => b.state.startsWith('idle in transaction'));
  const hint =
    action === 'cancel' && idle
      ? 'A cancel cannot end a session idle in a transaction (it runs no query): let it commit, or run again with ' +
        '--blockers terminate (ends the session; its open transaction rolls back, nothing its client was told was committed is lost).'
      : action === 'terminate'
        ? 'These began after the sessions ended here, or could not be ended: find them in pg_stat_activity, then retry.'
        : HINT;
  return new BlockedError(
    `${found.length} session${found.length > 1 ? 's' : ''} on ${side} would hold the pause ` +
      `(waited ${(waitedMs / 1000).toFixed(1)} s unpaused; nothing was paused):\n${list}${did}`,
    { hint },
  );
}

/**
 * Finds the blockers, acts on them as the policy says (each action reported to `onAction` as it is
 * taken), and waits unpaused up to `waitMs` for the rest to end. Returns what it did.
 */
export async function clearBlockers(
  client: Client,
  side: Side,
  policy: BlockerPolicy,
  onAction: (line: string, how: 'cancel' | 'terminate') => Promise<void>,
): Promise<{ found: number; actions: string[]; waitedMs: number }> {
  const start = performance.now();
  const acted = new Set<number>();
  const actions: string[] = [];
  let seen = 0;
  for (;;) {
    const found = await pauseBlockers(client, policy.minAgeMs);
    seen = Math.max(seen, found.length);
    if (!found.length) return { found: seen, actions, waitedMs: Math.round(performance.now() - start) };
    const { cancel, terminate } = actOn(
      found.filter((b) => !acted.has(b.pid)),
      policy,
    );
    for (const [how, list] of [
      ['cancel', cancel],
      ['terminate', terminate],
    ] as const) {
      for (const b of list) {
        acted.add(b.pid);
        const ok = await signalBackend(client, b.pid, how);
        const did = how === 'cancel' ? 'cancelled the query of' : 'ended the session of';
        const line = `${did} ${describeBlocker(b)}${ok ? '' : ' (it had already ended)'}`;
        actions.push(line);
        await onAction(line, how);
      }
    }
    const waited = performance.now() - start;
    if (waited >= policy.waitMs) throw refusal(side, found, waited, actions, policy.action);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Right before PAUSE: a blocker that appeared since the step above is refused at once (PAUSE would wait for it). */
export async function refuseLateBlockers(client: Client, side: Side, policy: BlockerPolicy): Promise<void> {
  const late = await pauseBlockers(client, policy.minAgeMs);
  if (late.length) throw refusal(side, late, 0, []);
}

/** Guardrail: a pooler in session or statement mode cannot be paused for a flip; refused before anything is paused. */
export async function refusePoolModes(pointer: Pick<Deps['pointer'], 'poolModes'>, database: string): Promise<void> {
  const refusals = poolModeRefusals(await pointer.poolModes(), database);
  if (refusals.length) throw new BlockedError(refusals.map((r) => r.message).join('\n'), { hint: refusals[0].fix });
}

/**
 * PAUSE ran out of its budget: the sessions then in a transaction on the side traffic leaves are
 * named (PgBouncer was resumed already, so they are read right after), with what to change.
 */
export async function namePauseHolders(client: Client, side: Side, error: Error, budgetMs: number): Promise<Error> {
  if (!/could not pause/.test(error.message)) return error;
  const open = await pauseBlockers(client, 0).catch(() => undefined);
  const list =
    open === undefined
      ? 'unknown (they could not be read)'
      : open.length
        ? `\n${open.map((b) => `  ${describeBlocker(b)}`).join('\n')}`
        : 'none left (they ended just after)';
  return new TimeoutError(`${error.message.split('\n')[0]}; in a transaction on ${side} when it gave up: ${list}`, {
    hint:
      `Every client waited up to ${budgetMs} ms and the flip was undone. ` +
      'Transactions that start right before PAUSE and last longer than switchover.pauseTimeoutMs hold it: ' +
      'retry at a quieter moment, or raise switchover.pauseTimeoutMs to their length (every client may wait that long).',
    cause: error,
  });
}
