/**
 * The flip: switchover (blue → green) and rollback (green → blue) are one protocol in two directions
 * and both modes. What need not happen inside the pause happens before it (guardrails, the new
 * direction's publication and slot) or after it (retiring the old direction, starting the new one).
 * Inside: PAUSE, freeze the side we leave, drain it (replicate), sync sequences, move the new slot
 * past everything the old direction applied, open the side we go to, flip the pointer, RESUME.
 * Every step is timed; the whole is bounded by switchover.timeoutMs. On any failure before RESUME
 * the steps taken are undone in reverse and the side we left serves again, still replicated to.
 */
import { BlueGreenError, BlockedError, DataLossRefusedError, TimeoutError } from '../core/errors.js';
import type { SchemaSnapshot } from '../core/schema-diff.js';
import type { Loss } from '../core/window.js';
import type { Report, StepResult } from '../core/report.js';
import { advance, type FlipRecord, type ReplicationLink, type Side } from '../core/state.js';
import { analyzeWhereMissing, countRowsWrittenSince, currentXid, listTables, longTransactions, readSchema, refreshMaterializedViews, syncSequences, tableColumns, type WrittenRows } from '../adapters/catalog.js';
import { buildTableSpec, countRowsOf, keysWrittenSince, tableReader } from '../adapters/content.js';
import { lastCompareFile } from './compare.js';
import { cancelRunningQuery, type Client, withClient } from '../adapters/pg.js';
import { sideTarget } from '../adapters/pointer.js';
import {
  advanceSlotToNow, beatHeartbeat, createPublication, createSlot, createSubscription, dropPublication, dropSlot, dropSubscription,
  replicationNames, slotLag, subscriptionHealth, waitForApplyWorker, waitForHeartbeat,
} from '../adapters/replication.js';
import { freezeWrites, unfreezeWrites } from '../adapters/write-guard.js';
import { existsSync, readFileSync } from 'node:fs';
import { assess, carry, lossRefusal, recordBaseline } from './sync-schema.js';
import { conn, controlled, type Deps, loadState } from './context.js';
import { planOnly, runSteps, type Step } from './steps.js';

export interface FlipResult extends Report {
  readonly writePauseMs?: number;
  /** A PgBouncer fleet: each instance's own pause (PAUSE → RESUME on it). */
  readonly pausesMs?: ReadonlyArray<{ readonly instance: string; readonly ms: number }>;
  /** Freeze mode: how long application writes were refused in all (from the clone's freeze to green opening). */
  readonly writesFrozenMs?: number;
  readonly serving: Side;
}

export type LostWrites = WrittenRows;

interface FlipPlan {
  readonly direction: 'switchover' | 'rollback';
  readonly from: Side;
  readonly to: Side;
}

/**
 * Races a step against what is left of the overall budget. On timeout `onTimeout` runs (it cancels
 * our sessions' queries, so the undo that follows can use them) before the step is reported failed.
 */
function withinBudget<T>(promise: Promise<T>, deadline: number, what: string, timeoutMs: number, onTimeout: () => Promise<void>): Promise<T> {
  const left = deadline - performance.now();
  if (left <= 0) return Promise.reject(new TimeoutError(`switchover.timeoutMs (${timeoutMs} ms) ran out before ${what}`));
  let timer: NodeJS.Timeout;
  const timeout = new TimeoutError(`switchover.timeoutMs (${timeoutMs} ms) ran out during ${what}`, {
    hint: 'Find what held the step (a lock or an open transaction on the subscriber, a long transaction) and retry, or raise switchover.timeoutMs.',
  });
  let timedOut = false;
  return Promise.race([
    // Once the budget is gone, the step's own outcome (such as the cancellation we caused) is not the story.
    promise.then(
      (value) => (timedOut ? Promise.reject(timeout) : value),
      (error: unknown) => Promise.reject(timedOut ? timeout : error),
    ),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        void onTimeout().finally(() => reject(timeout));
      }, left);
    }),
  ]).finally(() => clearTimeout(timer));
}

const STEP_TITLES = (plan: FlipPlan, pointer: string, replicate: boolean, verify: boolean): Array<Pick<Step, 'name' | 'title'>> => [
  { name: `analyze-${plan.to}`, title: `Making sure ${plan.to} has planner statistics` },
  ...(replicate ? [{ name: 'sync-schema', title: `Carrying ${plan.from}'s schema changes to ${plan.to}; checking nothing would be lost` }] : []),
  { name: 'guardrails', title: 'Checking guardrails' },
  ...(replicate ? [{ name: 'prepare-reverse', title: `Preparing replication ${plan.to} → ${plan.from} (publication and slot)` }] : []),
  { name: 'refresh-materialized-views', title: `Refreshing materialized views on ${plan.to}` },
  { name: 'pause', title: `Pausing new transactions (${pointer})` },
  { name: `freeze-${plan.from}`, title: `Freezing writes on ${plan.from}` },
  ...(replicate ? [{ name: 'drain', title: `Waiting for ${plan.to} to apply ${plan.from}'s last writes` }] : []),
  { name: 'sync-sequences', title: `Syncing sequences ${plan.from} → ${plan.to}` },
  ...(replicate && verify ? [{ name: 'verify', title: `Verifying what ${plan.from} wrote since the last compare` }] : []),
  ...(replicate ? [{ name: 'start-reverse-slot', title: `Starting the ${plan.to} → ${plan.from} slot at ${plan.to}'s current position` }] : []),
  { name: `open-${plan.to}`, title: `Opening ${plan.to} for writes` },
  { name: 'flip', title: `Pointing traffic at ${plan.to}` },
  { name: 'resume', title: 'Resuming transactions' },
  ...(replicate
    ? [
        { name: 'stop-forward', title: `Retiring replication ${plan.from} → ${plan.to}` },
        { name: 'subscribe-reverse', title: `Subscribing ${plan.from} to ${plan.to}'s writes` },
      ]
    : []),
];

export async function _flip(deps: Deps, plan: FlipPlan, options: { dryRun?: boolean; acceptDataLoss?: boolean }): Promise<FlipResult & { lostWrites?: LostWrites[] }> {
  const { config, pointer, progress } = deps;
  const replicate = config.mode === 'replicate';
  const at = () => deps.clock.now().toISOString();
  const started = plan.direction === 'switchover' ? 'switchover-started' : 'rollback-started';
  const url = (side: Side) => (side === 'blue' ? config.blue : config.green);
  const initial = await loadState(deps);
  advance(initial, started, at(), deps.who); // throws with advice when the phase forbids it
  const titles = STEP_TITLES(plan, pointer.description, replicate, config.switchover.verify);
  if (options.dryRun) return { ok: true, steps: planOnly(titles), serving: initial.serving };

  return controlled(deps, plan.direction, async () => {
    // The pooler's admin connections first: if PgBouncer is unreachable, nothing is recorded or frozen.
    await pointer.open();
    let state = advance(await loadState(deps), started, at(), deps.who);
    await deps.store.save(state);
    // The budget starts with the guardrails: gathering statistics before them is not part of the switch.
    let deadline = performance.now() + config.switchover.timeoutMs;
    const sessions: Array<{ url: string; client: Client }> = [];
    const cancelOurQueries = async () => {
      await Promise.all(sessions.map((s) => cancelRunningQuery(s.url, s.client, config.secrets)));
    };
    const budget = <T>(p: Promise<T>, what: string) => withinBudget(p, deadline, what, config.switchover.timeoutMs, cancelOurQueries);
    // The direction replicating now (from → to), and the one that will replicate after (to → from).
    const current: ReplicationLink | undefined = plan.direction === 'switchover' ? state.forward : state.reverse;
    const next: ReplicationLink = replicationNames(state.id, plan.direction === 'switchover' ? 'rev' : 'fwd');
    let lostWrites: LostWrites[] | undefined;
    let acceptedLosses: ReadonlyArray<Loss> | undefined;
    let toSchemaAtFlip: SchemaSnapshot | undefined;
    let pauseStart: number | undefined;
    let pauseMs: number | undefined;
    let pausesMs: ReadonlyArray<{ instance: string; ms: number }> | undefined;
    const done = new Set<string>();

    try {
      // Connections open before the pause: nothing inside it waits on a TCP handshake or authentication.
      return await withClient(url(plan.from), (from) =>
        withClient(url(plan.to), async (to) => {
          sessions.push({ url: url(plan.from), client: from }, { url: url(plan.to), client: to });
          const run: Record<string, Step['run']> = {
            [`analyze-${plan.to}`]: async () => {
              // Clone leaves statistics to autovacuum; traffic must not reach tables it has not got to yet.
              const analyzed = await analyzeWhereMissing(to);
              return analyzed ? `analyzed ${analyzed} table${analyzed > 1 ? 's' : ''} autovacuum had not reached` : { skipped: 'every table has statistics' };
            },
            'sync-schema': async () => {
              // Before the budget and the pause: carrying a table or a column copies rows and may take a while.
              const verdict = await assess(deps, state, from, to, plan.from);
              const outcome = await carry(deps, state, from, to, verdict, !!options.acceptDataLoss);
              const after = outcome.carried.length ? await assess(deps, state, from, to, plan.from) : verdict;
              if (after.losses.length && !options.acceptDataLoss) throw lossRefusal(plan.direction, after);
              acceptedLosses = after.losses.length ? after.losses : undefined;
              // The side traffic goes to, as it starts serving: its later DDL is judged against this. Frozen, so it holds still.
              toSchemaAtFlip = await readSchema(to);
              const carried = outcome.carried.length ? `carried ${outcome.carried.length}: ${outcome.carried.join('; ')}` : 'nothing to carry';
              return acceptedLosses ? `${carried}; ACCEPTED LOSS of ${acceptedLosses.map((l) => l.object).join(', ')}` : `${carried}; lossless`;
            },
            'refresh-materialized-views': async () => {
              const refreshed = await refreshMaterializedViews(to);
              if (!refreshed.length) return { skipped: `${plan.to} has no materialized views` };
              return refreshed.map((r) => `${r.view} ${r.ms} ms${r.concurrently ? ' (concurrently)' : ''}`).join(', ');
            },
            guardrails: async () => {
              deadline = performance.now() + config.switchover.timeoutMs;
              const currentTarget = await pointer.current();
              const t = sideTarget(config, plan.from);
              if (currentTarget.host !== t.host || currentTarget.port !== t.port || currentTarget.database !== t.database) {
                throw new BlockedError(`the pointer sends traffic to ${currentTarget.host}:${currentTarget.port}/${currentTarget.database}, not to ${plan.from}`, {
                  hint: 'Someone changed the pointer by hand: check it before going on.',
                });
              }
              const long = await longTransactions(from, config.switchover.pauseTimeoutMs / 1000);
              if (long.length) {
                throw new BlockedError(`${long.length} transaction${long.length > 1 ? 's have' : ' has'} been open on ${plan.from} longer than the pause may wait (oldest: pid ${long[0].pid}, ${Math.round(long[0].seconds)} s, ${long[0].who})`, {
                  hint: 'Let them finish (or end them), then retry.',
                });
              }
              if (replicate) return replicationGuardrails(from, to);
              if (plan.direction === 'rollback' && state.greenXidAtSwitchover) return countLostWrites(from);
              return `pointer serves ${plan.from}`;
            },
            'prepare-reverse': async () => {
              const fromTables = await tableColumns(from);
              const toTables = await tableColumns(to);
              // Only what the side we leave can take: its tables, its columns (green's new columns stay on green).
              const tables = [...toTables.entries()]
                .filter(([key]) => fromTables.has(key))
                .map(([key, t]) => ({ schema: t.schema, name: t.name, columns: t.columns.filter((c) => fromTables.get(key)!.columns.includes(c)) }));
              await budget(createPublication(to, next.publication, tables), 'the publication');
              done.add('publication');
              await budget(createSlot(to, next.slot), 'the slot');
              done.add('slot');
              return `${tables.length} tables, in ${plan.from}'s columns`;
            },
            pause: async () => {
              if (!pointer.canPause) return { skipped: "this pointer has no pooler to pause: writes wait only as long as the application's own switch takes" };
              pauseStart = performance.now();
              await budget(pointer.pause(Math.min(config.switchover.pauseTimeoutMs, deadline - performance.now())), 'PAUSE');
              done.add('pause');
            },
            [`freeze-${plan.from}`]: async () => {
              const ended = await budget(freezeWrites(from, `${plan.direction} to ${plan.to}`, { install: !replicate }), `freezing ${plan.from}`);
              done.add('freeze');
              return ended ? `ended ${ended} open transaction${ended > 1 ? 's' : ''}` : undefined;
            },
            drain: async () => {
              // The heartbeat is the last transaction published on the side we leave: once the other side shows it, all is applied.
              const token = await beatHeartbeat(from);
              // The budget speaks for a drain that runs out (it cancels our queries first): the wait's own limit is a backstop.
              const polls = await budget(waitForHeartbeat(to, token, deadline + 1000, 'the drain'), 'the drain');
              return `applied through heartbeat ${token} (${polls} poll${polls > 1 ? 's' : ''})`;
            },
            'sync-sequences': async () => `${await budget(syncSequences(from, to), 'the sequence sync')} advanced`,
            verify: async () => {
              // Exact here: the side we leave is frozen and the other has applied all of it.
              const file = lastCompareFile(config.stateDir);
              const last = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { cutover: string; side: Side; xid: string; at: string }) : undefined;
              if (!last || last.cutover !== state.id || last.side !== plan.from) {
                throw new BlockedError(`switchover.verify: no clean compare of this cutover with ${plan.from} serving is recorded`, { hint: 'Run `bluegreen compare` first; the switchover verifies what was written after it.' });
              }
              const check = async () => {
                const toTables = new Set((await listTables(to)).map((t) => t.display));
                const problems: string[] = [];
                let rows = 0;
                for (const t of await listTables(from)) {
                  if (!toTables.has(t.display)) continue;
                  const { spec, keyUsable } = await buildTableSpec(from, to, t.schema, t.name, plan.from, plan.to);
                  const [a, b] = await Promise.all([countRowsOf(from, spec), countRowsOf(to, spec)]);
                  if (a !== b) problems.push(`${t.display}: ${a} rows on ${plan.from}, ${b} on ${plan.to}`);
                  if (!keyUsable) continue;
                  const keys = await keysWrittenSince(from, spec, last.xid);
                  rows += keys.length;
                  for (let i = 0; i < keys.length; i += 5000) {
                    const batch = keys.slice(i, i + 5000);
                    const w = await tableReader({ publisher: from, subscriber: to }, spec).rowsByKey(batch);
                    const differing = batch.filter((k) => w.publisher.get(k) !== w.subscriber.get(k));
                    if (differing.length) problems.push(`${t.display}: ${differing.length} row${differing.length > 1 ? 's' : ''} written since the last compare differ${differing.length > 1 ? '' : 's'} (key ${differing.slice(0, 3).join(', ')})`);
                  }
                }
                if (problems.length) {
                  throw new BlueGreenError(`switchover.verify found differences after the drain:\n  ${problems.join('\n  ')}`, {
                    hint: `Nothing is switched; ${plan.from} keeps serving. \`bluegreen compare\` names every differing row.`,
                  });
                }
                return `${rows} row${rows === 1 ? '' : 's'} written since the compare of ${last.at} equal on both sides; row counts equal`;
              };
              return budget(check(), 'switchover.verify');
            },
            'start-reverse-slot': async () => {
              // Everything before this point came from the side we leave (or was ours): the new direction must not send it back.
              return `at ${await budget(advanceSlotToNow(to, next.slot), 'the slot advance')}`;
            },
            [`open-${plan.to}`]: async () => {
              await budget(unfreezeWrites(to), `opening ${plan.to}`);
              done.add('open');
              if (plan.direction === 'switchover') state = { ...state, greenXidAtSwitchover: await currentXid(to) };
            },
            flip: async () => {
              done.add('flip');
              await budget(pointer.flip(sideTarget(config, plan.to), plan.to), 'the pointer flip');
              return pointer.description;
            },
            resume: async () => {
              if (!pointer.canPause) {
                await pointer.confirm(sideTarget(config, plan.to));
                return { skipped: 'nothing was paused' };
              }
              await pointer.resume();
              // What the pooler itself routes to now, not what we wrote: a RELOAD it did not take shows here.
              await pointer.confirm(sideTarget(config, plan.to));
              pauseMs = Math.round(performance.now() - pauseStart!);
              done.add('resumed');
              const each = pointer.lastPauses();
              pausesMs = each.length > 1 ? each : undefined;
              return `writes paused for ${pauseMs} ms${pausesMs ? ` (per instance: ${pausesMs.map((p) => `${p.instance} ${p.ms} ms`).join(', ')}; longest ${Math.max(...pausesMs.map((p) => p.ms))} ms)` : ''}`;
            },
            'stop-forward': async () => {
              if (!current) return { skipped: 'nothing replicating' };
              await dropSubscription(to, current.subscription);
              await dropSlot(from, current.slot);
              await dropPublication(from, current.publication);
              return `${current.subscription} dropped`;
            },
            'subscribe-reverse': async () => {
              await createSubscription(from, next, config.addresses[plan.to].peer);
              if (!(await waitForApplyWorker(from, next.subscription, 15_000))) {
                throw new BlueGreenError(`the apply worker of ${next.subscription} on ${plan.from} did not start within 15 s`, {
                  hint: `See ${plan.from}'s log for why; ${plan.to}'s slot keeps every write until it runs.`,
                });
              }
              return `${plan.from} now follows ${plan.to}'s writes`;
            },
          };

          async function replicationGuardrails(fromClient: Client, toClient: Client): Promise<string> {
            if (!current) throw new BlockedError(`no replication ${plan.from} → ${plan.to} is recorded for this cutover`, { hint: 'Clone again in replicate mode.' });
            // A subscription made moments ago may still be waiting for the launcher to start its worker.
            await waitForApplyWorker(toClient, current.subscription, 10_000);
            const health = await subscriptionHealth(toClient, current.subscription);
            if (!health.exists || !health.enabled || !health.workerRunning) {
              throw new BlockedError(`replication ${plan.from} → ${plan.to} is not running (subscription ${current.subscription}: ${!health.exists ? 'missing' : !health.enabled ? 'disabled' : 'no apply worker'})`, {
                hint: `Check ${plan.to}'s log for the apply worker's error (a conflict, a missing column) and fix it; \`bluegreen status\` shows the lag.`,
              });
            }
            const lag = await slotLag(fromClient, current.slot);
            if (health.applyErrors > 0 && lag.lagBytes > 0) {
              throw new BlockedError(`replication ${plan.from} → ${plan.to} is failing: its apply worker on ${plan.to} has failed ${health.applyErrors} time${health.applyErrors > 1 ? 's' : ''} since the last repair and is ${lag.lagBytes} bytes behind`, {
                hint: `\`bluegreen status\` shows the likely cause; ${plan.to}'s log has the apply worker's error (a conflict, a missing column). Fix it (\`bluegreen sync-schema\` carries missing columns and tables), then retry.`,
              });
            }
            if (lag.lagBytes > config.switchover.maxLagBytes) {
              throw new BlockedError(`replication lag is ${lag.lagBytes} bytes, over switchover.maxLagBytes (${config.switchover.maxLagBytes})`, {
                hint: 'Wait for the subscriber to catch up (`bluegreen status`), then retry.',
              });
            }
            return `replication running, lag ${lag.lagBytes} bytes`;
          }

          async function countLostWrites(fromClient: Client): Promise<string> {
            lostWrites = await countRowsWrittenSince(fromClient, state.greenXidAtSwitchover!);
            const total = lostWrites.reduce((s, w) => s + w.written, 0);
            if (total > 0 && !options.acceptDataLoss) {
              throw new DataLossRefusedError(`rolling back would lose ${total} row${total > 1 ? 's' : ''} written on green since the switchover:\n${lostWrites.map((w) => `  ${w.table}: ${w.written}`).join('\n')}`, {
                hint: 'Freeze mode keeps no copy of green\'s writes on blue. Export them first, or run again with --accept-data-loss.',
              });
            }
            return `${total} row${total === 1 ? '' : 's'} written on green will be lost${total ? ' (accepted)' : ''}`;
          }

          const steps: Step[] = titles.map((t) => ({ ...t, run: run[t.name] }));
          // Steps after RESUME cannot undo the flip: traffic is on the new side. They are run, and reported, on their own.
          const resumeAt = steps.findIndex((s) => s.name === 'resume') + 1;
          const outcome = await runSteps(steps.slice(0, resumeAt), progress, config.secrets);
          const record = (ok: boolean, stepResults: StepResult[], error?: string): FlipRecord => ({
            kind: plan.direction, at: at(), by: deps.who, ok, writePauseMs: pauseMs, steps: stepResults, error, ...(ok && acceptedLosses ? { acceptedLosses } : {}),
          });

          if (!outcome.failed) {
            const after = await runSteps(steps.slice(resumeAt), progress, config.secrets);
            const allSteps = [...outcome.steps, ...after.steps];
            const now = at();
            const lastClone = state.history.filter((h) => h.event === 'clone-started').at(-1);
            const writesFrozenMs = !replicate && plan.direction === 'switchover' && lastClone ? Date.parse(now) - Date.parse(lastClone.at) : undefined;
            state = advance(state, plan.direction === 'switchover' ? 'switchover-finished' : 'rollback-finished', now, deps.who, {
              serving: plan.to,
              blueFrozen: plan.to === 'green',
              flips: [...state.flips, record(true, allSteps)],
              lastError: after.failed ? after.failed.error.message : undefined,
              ...(replicate ? (plan.direction === 'switchover' ? { forward: undefined, reverse: next } : { forward: next, reverse: undefined }) : {}),
              ...(plan.direction === 'switchover'
                ? { switchedOverAt: now, rollbackWindowEndsAt: new Date(Date.parse(now) + config.rollbackWindowMs).toISOString() }
                : {}),
            });
            await deps.store.save(state);
            if (toSchemaAtFlip) recordBaseline(config.stateDir, state.id, plan.to, toSchemaAtFlip);
            if (acceptedLosses) {
              await deps.store.audit({
                at: now, by: deps.who, command: plan.direction, cutover: state.id, outcome: 'data-loss-accepted',
                detail: acceptedLosses.map((l) => `${l.object}: ${l.what}`).join('; '),
              });
            }
            if (after.failed) {
              const err = after.failed.error;
              return {
                ok: false,
                steps: allSteps,
                writePauseMs: pauseMs,
                serving: plan.to,
                error: {
                  code: err.code,
                  message: `${plan.direction} done, ${plan.to} serves; but ${after.failed.step} failed: ${err.message}`,
                  hint: `Nothing is lost: ${plan.to} takes the writes and its slot keeps them for ${plan.from}. Fix the cause; until replication ${plan.to} → ${plan.from} runs, a rollback is refused.`,
                },
              };
            }
            return { ok: true, steps: allSteps, writePauseMs: pauseMs, pausesMs, writesFrozenMs, serving: plan.to, lostWrites };
          }

          // Undo in reverse, each part on its own so one failure does not stop the rest.
          const undo: string[] = [];
          // A budget timeout cancels what our sessions run; a session that was between queries then gets
          // the cancel on its next one, which may be an undo step (seen: a publication left behind). One retry.
          const attempt = async (what: string, fn: () => Promise<unknown>) => {
            for (let tries = 0; ; tries++) {
              try {
                await fn();
                undo.push(`${what}: done`);
                return;
              } catch (error) {
                if (tries === 0 && /canceling statement due to user request/.test((error as Error).message)) continue;
                undo.push(`${what}: FAILED (${(error as Error).message.split('\n')[0]})`);
                return;
              }
            }
          };
          if (done.has('flip')) await attempt(`pointer back to ${plan.from}`, () => pointer.flip(sideTarget(config, plan.from), plan.from));
          if (done.has('open')) await attempt(`${plan.to} frozen again`, () => freezeWrites(to, `${plan.direction} aborted`, { install: false }));
          // Freeze mode keeps blue frozen until the switchover or an abort; everywhere else the side we leave reopens.
          if (done.has('freeze') && (replicate || plan.direction === 'rollback')) await attempt(`${plan.from} reopened`, () => unfreezeWrites(from));
          if (pauseStart !== undefined) await attempt('transactions resumed', () => pointer.resume());
          if (done.has('slot')) await attempt(`slot ${next.slot} dropped`, () => dropSlot(to, next.slot));
          if (done.has('publication')) await attempt(`publication ${next.publication} dropped`, () => dropPublication(to, next.publication));
          if (pauseStart !== undefined) pauseMs = Math.round(performance.now() - pauseStart);
          const err = outcome.failed.error;
          state = advance(state, plan.direction === 'switchover' ? 'switchover-aborted' : 'rollback-aborted', at(), deps.who, {
            flips: [...state.flips, record(false, outcome.steps, err.message)],
            lastError: err.message,
          });
          await deps.store.save(state);
          const stillSynced = replicate && current ? ` Replication ${plan.from} → ${plan.to} keeps running.` : '';
          return {
            ok: false,
            steps: [...outcome.steps, ...steps.slice(resumeAt).map((s): StepResult => ({ name: s.name, status: 'skipped', ms: 0, detail: 'not reached' }))],
            writePauseMs: pauseMs,
            serving: plan.from,
            lostWrites,
            error: {
              code: err.code,
              exitCode: err.exitCode,
              message: `${plan.direction} aborted at ${outcome.failed.step}: ${err.message}\n  undo: ${undo.length ? undo.join('; ') : 'nothing to undo'}`,
              hint: `${err.hint ? `${err.hint} ` : ''}${plan.from} still serves${!replicate && plan.from === 'blue' ? ' (read-only, as since the clone)' : ''}; nothing was lost.${stillSynced} ${
                plan.direction === 'switchover' ? `Retry \`bluegreen switchover\`${replicate ? '' : ', or `bluegreen abort` to reopen blue for writes'}.` : 'Retry `bluegreen rollback`.'
              }`,
            },
          };
        }, conn(deps, plan.to, plan.direction)),
      conn(deps, plan.from, plan.direction));
    } finally {
      await pointer.close();
    }
  });
}
