/**
 * The way back when green is lost in the rollback window: green serves, then crashes and stays down.
 * The ordinary rollback needs green (its drain, its sequences, its slot). This one needs only blue
 * and the pointer: it states what may be lost (what green wrote that blue had not applied: the last
 * reverse lag read, and when), refuses without --accept-data-loss, and otherwise opens blue, moves its
 * sequences past every value its tables hold, detaches blue's subscription from green, and points
 * traffic at blue. Green is recorded as lost: when it answers again it is fenced, never served.
 */
import { DataLossRefusedError } from '../core/errors.js';
import { redact } from '../core/redact.js';
import type { CutoverState, FlipRecord, Side } from '../core/state.js';
import { advance } from '../core/state.js';
import { advanceSequencesPastColumns } from '../adapters/sequence-repair.js';
import { syncSequences } from '../adapters/catalog/sequences.js';
import { type Client, withClient } from '../adapters/pg.js';
import { sideTarget } from '../adapters/pointer.js';
import { dropPublication, dropSlot, dropSubscription, ourReplicationObjects } from '../adapters/replication.js';
import { readLagSamples } from '../adapters/state-store.js';
import { unfinishedReseedRefusal } from '../core/reseed.js';
import { freezeWrites, unfreezeWrites } from '../adapters/write-guard.js';
import { conn, type Deps } from './context.js';
import type { FlipResult } from './flip.js';
import { failedAt, runSteps } from '../operations/runner.js';

/** A connection failure that says the server is not there (as opposed to refusing us: too many clients, a password). */
const SERVER_GONE = new RegExp(
  [
    'ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|connection refused|timeout expired|timed out|Connection terminated',
    'the database system is (shutting down|starting up|in recovery mode)',
  ].join('|'),
  'i',
);

/**
 * Whether green is gone: undefined when it answers. Two tries a moment apart, and only an error that
 * says the server is not there counts; any other (too many clients, authentication) is thrown as it
 * is, so a busy green is never taken for a lost one.
 */
export async function greenUnreachable(deps: Deps): Promise<string | undefined> {
  return sideUnreachable(deps, 'green');
}

/** The same for either side: undefined when it answers, else why it is gone (redacted). */
export async function sideUnreachable(deps: Deps, side: Side): Promise<string | undefined> {
  let last: Error | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const url = side === 'blue' ? deps.config.blue : deps.config.green;
      await withClient(url, async () => undefined, { ...conn(deps, side, 'check'), connectTimeoutMs: 5000 });
      return undefined;
    } catch (error) {
      last = error as Error;
      if (!SERVER_GONE.test(last.message) && !SERVER_GONE.test(String((last as { code?: string }).code ?? ''))) throw error;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  return redact(last!.message.split('\n')[0], deps.config.secrets);
}

/** What a rollback without green gives up, from the last reading of replication green → blue. */
export function lossStatement(deps: Pick<Deps, 'config'>, state: CutoverState): string {
  if (deps.config.mode === 'replicate' && !state.reverse && !state.lost)
    return (
      `every write green took since the switchover at ${state.switchedOverAt ?? '?'} ` +
      '(the switchover gave up replication green → blue, as declared then)'
    );
  if (deps.config.mode === 'freeze')
    return `every write green took since the switchover at ${state.switchedOverAt ?? '?'} (freeze mode keeps no copy of them on blue)`;
  const samples = readLagSamples(deps.config.stateDir, state.id).filter((x) => x.direction === 'green → blue');
  // A reading that could not reach green says nothing of the lag: the figure is the last one that did.
  const last = samples.filter((x) => x.lagBytes !== undefined).at(-1);
  if (!last)
    return (
      "green's writes blue had not applied when green was lost; no reading of replication green → blue that reached green " +
      'was recorded (`bluegreen status` and `watch` record one each time), so how many is unknown'
    );
  const since = samples.at(-1) !== last ? `; the readings since (the last at ${samples.at(-1)!.at}) could not reach green` : '';
  const behind = `${last.lagBytes} bytes${last.lagSeconds !== undefined ? ` / ${last.lagSeconds.toFixed(1)} s` : ''} behind`;
  return (
    `green's writes blue had not applied when green was lost: at the last reading that reached green (${last.at}) ` +
    `replication green → blue was ${last.running ? 'running' : 'NOT running'}, ${behind}${since}; ` +
    'anything green took after that reading is unknown'
  );
}

/**
 * Traffic back on blue alone. `why` is why green is unreachable; undefined when green answers but
 * nothing replicated its writes back (a switchover that gave that up): green is then frozen first, so
 * it takes nothing more, and kept (not fenced) as the side that may serve again after a new clone.
 */
export async function rollbackWithoutGreen(
  deps: Deps,
  state: CutoverState,
  why: string | undefined,
  acceptDataLoss: boolean,
): Promise<FlipResult> {
  const { config, pointer } = deps;
  // Blue emptied by a re-seed cut short: no loss to accept, there is no whole copy to serve.
  const reseeding = unfinishedReseedRefusal(state);
  if (reseeding) throw reseeding;
  const loss = lossStatement(deps, state);
  if (!acceptDataLoss) {
    throw new DataLossRefusedError(
      why ? `green is unreachable (${why}); a rollback without it gives up ${loss}` : `rolling back gives up ${loss}`,
      {
        hint: why
          ? 'Bring green back and run `bluegreen rollback` (lossless), ' +
            'or run `bluegreen rollback --accept-data-loss` to put traffic on blue now (what is given up is recorded).'
          : 'Export what green took that you need, ' +
            'or run `bluegreen rollback --accept-data-loss` to put traffic on blue (what is given up is recorded).',
      },
    );
  }
  const at = () => deps.clock.now().toISOString();
  let saved = state.phase === 'rolling-back' ? state : advance(state, 'rollback-started', at(), deps.who);
  await deps.store.save(saved);
  const outcome = await withClient(
    config.blue,
    async (blue: Client) => {
      await pointer.open();
      try {
        return await runSteps(
          [
            {
              name: 'pause',
              title: `Pausing new transactions (${pointer.description})`,
              // Held for the few steps below, so no client meets a frozen side between them.
              run: async () => {
                if (!pointer.canPause) return { skipped: 'this pointer has no pooler to pause' };
                try {
                  await pointer.pause(config.switchover.pauseTimeoutMs);
                } catch (error) {
                  const why = (error as Error).message.split('\n')[0];
                  return { skipped: `could not pause (${why}): clients may see a few refused writes until the pointer moves` };
                }
              },
            },
            ...(why
              ? []
              : [
                  {
                    name: 'freeze-green',
                    title: 'Freezing green (it takes nothing more)',
                    run: () =>
                      withClient(
                        config.green,
                        (g) => freezeWrites(g, 'rollback to blue without reverse replication').then(() => undefined),
                        conn(deps, 'green', 'rollback'),
                      ),
                  },
                ]),
            {
              name: 'sequences',
              title: why
                ? "Moving blue's sequences past every value its tables hold"
                : "Setting blue's sequences from green's, then past blue's rows",
              // Green handed out values during the window and blue's sequences were never synced back: from green
              // itself when it answers (values its given-up rows hold are never handed out again), else past blue's rows.
              run: async () => {
                const readGreen = () => withClient(config.green, (g) => syncSequences(g, blue), conn(deps, 'green', 'rollback'));
                const fromGreen = why ? undefined : await readGreen();
                const past = await advanceSequencesPastColumns(blue);
                return why
                  ? `${past} advanced past blue's rows; values green handed out for rows that never reached blue may be handed out again`
                  : `${fromGreen} set from green's; ${past} more past blue's rows`;
              },
            },
            { name: 'open-blue', title: 'Opening blue for writes', run: () => unfreezeWrites(blue) },
            {
              name: 'detach-from-green',
              title: "Dropping blue's subscription to green (its slot on green is left for the fence)",
              run: async () =>
                state.reverse ? void (await dropSubscription(blue, state.reverse.subscription)) : { skipped: 'none recorded' },
            },
            {
              name: 'flip',
              title: 'Pointing traffic at blue',
              run: async () => {
                await pointer.flip(sideTarget(config, 'blue'), 'blue');
                return pointer.description;
              },
            },
            {
              name: 'resume',
              title: 'Making sure traffic flows',
              run: async () => {
                if (pointer.canPause) await pointer.resume();
                await pointer.confirm(sideTarget(config, 'blue'));
              },
            },
          ],
          deps.progress,
          config.secrets,
        );
      } finally {
        await pointer.close();
      }
    },
    conn(deps, 'blue', 'rollback'),
  );
  const losses = [{ object: 'green', what: why ? `lost (${why}): gave up ${loss}` : `gave up ${loss}` }];
  const record: FlipRecord = {
    kind: 'rollback',
    at: at(),
    by: deps.who,
    ok: !outcome.failed,
    steps: outcome.steps,
    error: outcome.failed?.error.message,
    ...(outcome.failed ? {} : { acceptedLosses: losses }),
  };
  if (outcome.failed) {
    saved = { ...saved, flips: [...saved.flips, record], lastError: outcome.failed.error.message };
    await deps.store.save(saved);
    return {
      ok: false,
      steps: outcome.steps,
      serving: 'green',
      error: failedAt(
        'rollback without green',
        outcome.failed,
        'Fix the cause and run `bluegreen rollback --accept-data-loss` again: each step is safe to repeat.',
        1,
      ),
    };
  }
  saved = advance(saved, 'rollback-finished', at(), deps.who, {
    serving: 'blue',
    blueFrozen: false,
    reverse: undefined,
    flips: [...saved.flips, record],
    ...(why ? { lost: { side: 'green' as const, at: at(), why } } : {}),
    lastError: why
      ? `green lost (${why}); rolled back without it`
      : "rolled back without reverse replication: green's writes since the switchover given up (accepted)",
  });
  await deps.store.save(saved);
  await deps.store.audit({
    at: at(),
    by: deps.who,
    command: 'rollback',
    cutover: saved.id,
    outcome: 'data-loss-accepted',
    detail: why ? `green lost: ${loss}` : `no reverse replication: ${loss}`,
  });
  return { ok: true, steps: outcome.steps, serving: 'blue' };
}

/**
 * A side given up for lost that answers again is fenced at once: its writes frozen and every
 * replication object of ours on it dropped, so it never takes traffic and never replicates its
 * stale writes over the survivor's. Returns the line `status` shows.
 */
export async function fenceLostSide(deps: Deps, state: CutoverState): Promise<string | undefined> {
  const lost = state.lost;
  if (!lost) return undefined;
  if (lost.fencedAt)
    return (
      `${lost.side} was lost at ${lost.at} (${lost.why}) and fenced at ${lost.fencedAt} when it answered again: ` +
      'writes frozen, our replication objects on it dropped; it takes no traffic'
    );
  try {
    await withClient(
      lost.side === 'blue' ? deps.config.blue : deps.config.green,
      async (c) => {
        const { subscriptions, slots, publications } = await ourReplicationObjects(c);
        for (const s of subscriptions) await dropSubscription(c, s);
        for (const s of slots) await dropSlot(c, s);
        for (const p of publications) await dropPublication(c, p);
        await freezeWrites(c, `lost at ${lost.at}; fenced by pg-bluegreen`);
      },
      { ...conn(deps, lost.side, 'status'), connectTimeoutMs: 3000 },
    );
  } catch (error) {
    const why = (error as Error).message.split('\n')[0];
    return (
      `${lost.side} was lost at ${lost.at} (${lost.why}); still unreachable (${why}): ` +
      'when it answers, the next `bluegreen status` fences it'
    );
  }
  const fencedAt = deps.clock.now().toISOString();
  await deps.store.save({ ...state, lost: { ...lost, fencedAt } });
  return (
    `${lost.side} was lost at ${lost.at} (${lost.why}) and answered again: ` +
    'fenced now (writes frozen, our replication objects on it dropped); it takes no traffic. `bluegreen finalize --force` retires it'
  );
}
