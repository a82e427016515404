/**
 * The flip's runbook: switchover (blue → green) and rollback (green → blue) as one plan of steps,
 * each with its undo beside it. Before the pause: statistics, the schema carried and judged, views
 * refreshed, guardrails, the new direction's publication and slot. Inside it: PAUSE, freeze, drain,
 * then the independent steps at once (sequences, the new slot's start, the side we go to opened, the
 * pointer flipped), RESUME. After it (no undo: traffic is on the new side): the old direction
 * retired, the other side subscribed. `resume` builds the same plan to undo or finish a flip.
 */
import { BlueGreenError, BlockedError } from '../core/errors.js';
import type { SchemaSnapshot } from '../core/schema-diff.js';
import type { CutoverState, ReplicationLink, Side } from '../core/state.js';
import type { Loss } from '../core/window.js';
import { refreshMaterializedViews } from '../adapters/catalog/materialized-views.js';
import { readSchema } from '../adapters/catalog/schema-snapshot.js';
import { presyncSequences, type SequencePlan, syncMovedSequences, syncSequences } from '../adapters/catalog/sequences.js';
import { analyzeWhereMissing } from '../adapters/catalog/statistics.js';
import { tableColumns } from '../adapters/catalog/tables.js';
import type { TableChanges } from '../adapters/change-counter.js';
import type { Client } from '../adapters/pg.js';
import { sideServedBy, sideTarget } from '../adapters/pointer.js';
import {
  advanceSlotToNow,
  createPublication,
  resetSubscriptionErrors,
  createSlot,
  createSubscription,
  dropPublication,
  dropSlot,
  dropSubscription,
  slotLag,
  subscriptionHealth,
  waitForApplyWorker,
} from '../adapters/replication.js';
import { beatHeartbeat, waitForHeartbeat, watchHeartbeat } from '../adapters/heartbeat.js';
import { freezeInOneTrip, freezeWrites, openInOneTrip, unfreezeWrites } from '../adapters/write-guard.js';
import type { Deps } from './context.js';
import type { PlanStep } from '../operations/runner.js';
import { assess, carry, lossRefusal } from './sync-schema.js';
import { carryAdditions } from './carry-additions.js';
import { blockerPolicy, blockersStep, namePauseHolders, refuseLateBlockers, refusePoolModes } from './flip-blockers.js';
import type { BlockerAction } from '../core/blockers.js';
import { verifyStep } from './flip-verify.js';
import { pgbouncerRestartNote, refuseLostSlot } from './flip-faults.js';
import { countGreenChanges, recountStep, startCountingStep, stopCountingStep } from './flip-freeze-changes.js';
import { carryLargeObjectsInPauseStep, carryLargeObjectsStep, type LargeObjectsBeforePause } from './flip-large-objects.js';
import { checkUnloggedStep, copyUnloggedStep, type UnloggedBeforePause } from './flip-unlogged.js';

export interface FlipDirection {
  readonly direction: 'switchover' | 'rollback';
  readonly from: Side;
  readonly to: Side;
}

/** What the steps learn as they run, read by the flip to record and report it. */
export interface FlipFindings {
  pauseStart?: number;
  pauseMs?: number;
  pausesMs?: ReadonlyArray<{ instance: string; ms: number }>;
  acceptedLosses?: ReadonlyArray<Loss>;
  toSchemaAtFlip?: SchemaSnapshot;
  /** Freeze mode's rollback: what green changed since the switchover, per table (given up with --accept-data-loss). */
  lostWrites?: TableChanges[];
  /** The change counters' total at the rollback's guardrails, checked again inside the pause. */
  changeTotalBeforePause?: number;
  /** What the large objects' copy before the pause saw, for the check inside it. */
  largeObjects?: LargeObjectsBeforePause;
  /** The unlogged tables the pause copies, as the check before it found them. */
  unlogged?: UnloggedBeforePause;
  greenXidAtSwitchover?: string;
  /** Every sequence by oid with what the target holds, from before the pause. */
  sequencePlan?: SequencePlan;
  sequencesPresynced?: { advanced: number; movedAhead: number };
  /** The subscriber's heartbeat channel, listened to before the pause. */
  heartbeat?: Awaited<ReturnType<typeof watchHeartbeat>>;
}

export interface FlipSessions {
  readonly from: Client;
  readonly to: Client;
  /** More sessions on the side we go to, so steps inside the pause can run at once. */
  readonly toSlot: Client;
  readonly toOpen: Client;
  readonly toSequences: Client;
  /** A session on the side we leave for its sequence read inside the pause, beside the drain. */
  readonly fromSequences: Client;
}

export interface FlipContext {
  readonly deps: Deps;
  readonly flip: FlipDirection;
  readonly state: CutoverState;
  readonly sessions: FlipSessions;
  readonly acceptDataLoss: boolean;
  /** `--blockers`: what to do with sessions that would hold the pause (default: the config's). */
  readonly blockers?: BlockerAction;
  readonly findings: FlipFindings;
  /** Called when the guardrails start: the budget runs from there. */
  readonly startBudget: () => void;
  /** What is left of the budget, for waits that must end with it. */
  readonly deadline: () => number;
}

/** The runbook, top to bottom. `next` names the new direction's objects. */
export function flipSteps(ctx: FlipContext, next: ReplicationLink): { main: PlanStep[]; after: PlanStep[] } {
  const { deps, flip, state, sessions, findings } = ctx;
  const { config, pointer } = deps;
  const { from, to } = sessions;
  const replicate = config.mode === 'replicate';
  // Without a superuser a 15 blue cannot subscribe: preflight declared the rollback lossy and the switchover
  // was accepted so (--accept-data-loss); no reverse direction is prepared that could never be subscribed.
  const reverse = replicate && !(flip.direction === 'switchover' && state.privileges?.rollbackLossless === false);
  const current = flip.direction === 'switchover' ? state.forward : state.reverse;
  // Freeze mode: blue keeps no copy of green's writes, so green counts them from the switchover on.
  const freezeSwitchover = !replicate && flip.direction === 'switchover';
  const freezeRollback = !replicate && flip.direction === 'rollback' && !!state.greenXidAtSwitchover;
  const main: PlanStep[] = [
    {
      name: `analyze-${flip.to}`,
      title: `Making sure ${flip.to} has planner statistics`,
      unbudgeted: true,
      // Clone leaves statistics to autovacuum; traffic must not reach tables it has not got to yet.
      run: async () => {
        const analyzed = await analyzeWhereMissing(to);
        return analyzed
          ? `analyzed ${analyzed} table${analyzed > 1 ? 's' : ''} autovacuum had not reached`
          : { skipped: 'every table has statistics' };
      },
    },
    ...(replicate
      ? [
          {
            name: 'sync-schema',
            title: `Carrying ${flip.from}'s schema changes to ${flip.to}; checking nothing would be lost`,
            unbudgeted: true,
            // Carrying a table or a column copies rows and may take a while: before the budget and the pause.
            run: async () => {
              const verdict = await assess(deps, state, from, to, flip.from);
              const outcome = await carry(deps, state, from, to, verdict, ctx.acceptDataLoss);
              const after = outcome.carried.length ? await assess(deps, state, from, to, flip.from) : verdict;
              if (after.losses.length && !ctx.acceptDataLoss) throw lossRefusal(flip.direction, after);
              findings.acceptedLosses = after.losses.length ? after.losses : undefined;
              // The side traffic goes to, as it starts serving: its later DDL is judged against this. Frozen, so it holds still.
              findings.toSchemaAtFlip = await readSchema(to);
              const carried = outcome.carried.length
                ? `carried ${outcome.carried.length}: ${outcome.carried.join('; ')}`
                : 'nothing to carry';
              return findings.acceptedLosses
                ? `${carried}; ACCEPTED LOSS of ${findings.acceptedLosses.map((l) => l.object).join(', ')}`
                : `${carried}; lossless`;
            },
          } satisfies PlanStep,
        ]
      : []),
    ...(replicate
      ? [
          {
            name: `carry-to-${flip.from}`,
            title: `Carrying what ${flip.to} adds to ${flip.from}, so replication back never stops on it`,
            unbudgeted: true,
            run: async () => {
              const carried = await carryAdditions(
                to,
                from,
                { going: flip.to, leaving: flip.from },
                { stateDir: config.stateDir, cutoverId: state.id },
              );
              return carried.length ? carried.join('; ') : { skipped: `${flip.from} has everything ${flip.to} adds` };
            },
          } satisfies PlanStep,
        ]
      : []),
    {
      name: 'refresh-materialized-views',
      title: `Refreshing materialized views on ${flip.to}`,
      unbudgeted: true,
      run: async () => {
        const refreshed = await refreshMaterializedViews(to);
        if (!refreshed.length) return { skipped: `${flip.to} has no materialized views` };
        return refreshed.map((r) => `${r.view} ${r.ms} ms${r.concurrently ? ' (concurrently)' : ''}`).join(', ');
      },
    },
    ...(freezeSwitchover ? [startCountingStep(ctx)] : []),
    carryLargeObjectsStep(ctx),
    checkUnloggedStep(ctx),
    blockersStep(deps, flip.from, () => from, ctx.blockers, flip.direction, reverse ? { side: flip.to, client: () => to } : undefined),
    {
      name: 'guardrails',
      title: 'Checking guardrails',
      run: async () => {
        ctx.startBudget();
        const currentTarget = await pointer.current();
        if (sideServedBy(config, currentTarget) !== flip.from) {
          throw new BlockedError(
            `the pointer sends traffic to ${currentTarget.host}:${currentTarget.port}/${currentTarget.database}, not to ${flip.from}`,
            {
              hint: 'Someone changed the pointer by hand: check it before going on.',
            },
          );
        }
        await refusePoolModes(pointer, config.pointer.type === 'pgbouncer' ? config.pointer.database : '');
        if (replicate) return replicationGuardrails();
        if (freezeRollback) return countGreenChanges(ctx);
        return `pointer serves ${flip.from}`;
      },
    },
    ...(reverse
      ? [
          {
            name: 'prepare-reverse',
            title: `Preparing replication ${flip.to} → ${flip.from} (publication and slot)`,
            run: async () => {
              const fromTables = await tableColumns(from);
              const toTables = await tableColumns(to);
              // Only what the side we leave can take: its tables, its columns.
              const tables = [...toTables.entries()]
                .filter(([key]) => fromTables.has(key))
                .map(([key, t]) => ({
                  schema: t.schema,
                  name: t.name,
                  columns: t.columns.filter((c) => fromTables.get(key)!.columns.includes(c)),
                }));
              await createPublication(to, next.publication, tables);
              await createSlot(to, next.slot);
              return `${tables.length} tables, in ${flip.from}'s columns`;
            },
            undo: async () => {
              await dropSlot(to, next.slot);
              await dropPublication(to, next.publication);
            },
            undone: `slot ${next.slot} dropped`,
          } satisfies PlanStep,
        ]
      : []),
    {
      name: 'pause',
      title: `Pausing new transactions (${pointer.description})`,
      run: async () => {
        // The drain is told by a notification on a channel listened to before the pause: no round trip for it inside.
        if (replicate) findings.heartbeat = await watchHeartbeat(to);
        // The target's sequences hold still while it is frozen: set them now to the source's values, so inside
        // the pause only the few that moved since are read (by oid, filtered on the server) and set.
        const presync = await presyncSequences(sessions.fromSequences, sessions.toSequences);
        findings.sequencePlan = presync.plan;
        findings.sequencesPresynced = presync;
        if (!pointer.canPause)
          return { skipped: "this pointer has no pooler to pause: writes wait only as long as the application's own switch takes" };
        // PAUSE would wait for a transaction opened since the blockers step: refused now, nothing paused.
        await refuseLateBlockers(from, flip.from, blockerPolicy(deps, ctx.blockers));
        findings.pauseStart = performance.now();
        await pointer.pause(Math.min(config.switchover.pauseTimeoutMs, ctx.deadline() - performance.now())).catch(async (error: Error) => {
          throw await namePauseHolders(from, flip.from, error, config.switchover.pauseTimeoutMs);
        });
      },
      // Last of the undos: the side we leave is open again before PgBouncer lets transactions go.
      undone: 'transactions resumed',
      undo: async () => {
        if (!pointer.canPause || findings.pauseStart === undefined) return;
        await pointer.resume();
        findings.pauseMs = Math.round(performance.now() - findings.pauseStart);
      },
    },
    {
      name: `freeze-${flip.from}`,
      title: `Freezing writes on ${flip.from}`,
      run: async () => {
        // Replicate mode: the guard is on every table (clone, then sync-schema for new ones): a flag flip, one round trip.
        // Freeze mode completes the guard first (tables made on green in the window).
        const ended = replicate
          ? await freezeInOneTrip(from, `${flip.direction} to ${flip.to}`)
          : await freezeWrites(from, `${flip.direction} to ${flip.to}`);
        return ended ? `ended ${ended} open transaction${ended > 1 ? 's' : ''}` : undefined;
      },
      // Freeze mode keeps blue frozen until the switchover or an abort; everywhere else the side we leave reopens.
      undo: async () => {
        if (replicate || flip.direction === 'rollback') await unfreezeWrites(from);
      },
      undone: `${flip.from} reopened`,
    },
    ...(freezeRollback ? [recountStep(ctx)] : []),
    ...(replicate
      ? [
          {
            name: 'drain',
            title: `Waiting for ${flip.to} to apply ${flip.from}'s last writes`,
            together: 'after-freeze',
            run: async () => {
              // The heartbeat is the last transaction published on the side we leave: once the other side has it, all is applied.
              const watch = findings.heartbeat ?? (await watchHeartbeat(to));
              try {
                const token = await beatHeartbeat(from);
                // The budget speaks for a drain that runs out (it cancels our queries first): the wait's own limit is a backstop.
                const polls = await watch.until(token, ctx.deadline() + 1000, 'the drain');
                return `applied through heartbeat ${token}${polls ? ` (${polls} poll${polls > 1 ? 's' : ''})` : ' (told)'}`;
              } finally {
                await watch.close();
              }
            },
          } satisfies PlanStep,
        ]
      : []),
    {
      // Beside the drain: the source is frozen, so its values are final, and the apply worker never touches sequences.
      name: 'sync-sequences',
      title: `Syncing sequences ${flip.from} → ${flip.to}`,
      together: 'after-freeze',
      run: async () => {
        if (!findings.sequencePlan) return `${await syncSequences(sessions.fromSequences, sessions.toSequences)} advanced`;
        const { advanced, fullRead } = await syncMovedSequences(sessions.fromSequences, sessions.toSequences, findings.sequencePlan);
        const { advanced: early, movedAhead } = findings.sequencesPresynced!;
        const before = `before the pause: ${early} of ${findings.sequencePlan.sequences.length} advanced${movedAhead ? `, ${movedAhead} busy one${movedAhead > 1 ? 's' : ''} set a second of traffic ahead` : ''}`;
        return fullRead
          ? `${advanced} advanced (${flip.from}'s set of sequences changed since the pause began: all read); ${before}`
          : `${advanced} moved since and advanced; ${before}`;
      },
    },
    ...(replicate && config.switchover.verify ? [verifyStep(ctx)] : []),
    // Logical replication does not carry large objects: what changed since the copy before the pause, the side we leave frozen.
    carryLargeObjectsInPauseStep(ctx),
    // Unlogged tables are never published: their rows go now, the side we leave frozen (beside the steps after the drain).
    copyUnloggedStep(ctx),
    ...(reverse
      ? [
          {
            name: 'start-reverse-slot',
            title: `Starting the ${flip.to} → ${flip.from} slot at ${flip.to}'s current position`,
            together: 'after-drain',
            // Everything before this point came from the side we leave (or was ours): the new direction must not send it back.
            run: async () => `at ${await advanceSlotToNow(sessions.toSlot, next.slot)}`,
          } satisfies PlanStep,
        ]
      : []),
    {
      name: `open-${flip.to}`,
      title: `Opening ${flip.to} for writes`,
      together: 'after-drain',
      // Nothing reaches it before RESUME: opening it beside the slot's start is safe.
      run: async () => {
        const xid = await openInOneTrip(sessions.toOpen);
        if (flip.direction === 'switchover') findings.greenXidAtSwitchover = xid;
      },
      undo: async () => void (await freezeWrites(sessions.toOpen, `${flip.direction} aborted`, { install: false })),
      undone: `${flip.to} frozen again`,
    },
    {
      // Not beside the others: once the pointer names the new side, resume takes the sequences and the
      // new slot as done (a kill between them would otherwise leave them undone behind a flipped pointer).
      name: 'flip',
      title: `Pointing traffic at ${flip.to}`,
      run: async () => {
        await pointer.flip(sideTarget(config, flip.to), flip.to);
        return pointer.description;
      },
      undo: () => pointer.flip(sideTarget(config, flip.from), flip.from),
      undone: `pointer back to ${flip.from}`,
    },
    {
      name: 'resume',
      title: 'Resuming transactions',
      // RESUME on any instance lets clients write to the new side: from here the flip only goes forward.
      pointOfNoReturn: true,
      run: async () => {
        if (!pointer.canPause) {
          await pointer.confirm(sideTarget(config, flip.to));
          return { skipped: 'nothing was paused' };
        }
        await pointer.resume();
        const each = pointer.lastPauses();
        // Each instance's own PAUSE → RESUME (the longest is what a client may have waited), else ours around the call.
        if (each.length) findings.pauseMs = Math.max(...each.map((p) => p.ms));
        else if (findings.pauseStart !== undefined) findings.pauseMs = Math.round(performance.now() - findings.pauseStart);
        // What the pooler itself routes to now, not what we wrote: a RELOAD it did not take shows here.
        await pointer.confirm(sideTarget(config, flip.to));
        findings.pausesMs = each.length > 1 ? each : undefined;
        const restarted = pgbouncerRestartNote(pointer, flip);
        if (findings.pauseMs === undefined) return `transactions flow${restarted}`;
        return `writes paused for ${findings.pauseMs} ms${findings.pausesMs ? ` (per instance: ${findings.pausesMs.map((p) => `${p.instance} ${p.ms} ms`).join(', ')}; longest ${Math.max(...findings.pausesMs.map((p) => p.ms))} ms)` : ''}${restarted}`;
      },
    },
  ];

  const after: PlanStep[] = replicate
    ? [
        {
          name: 'stop-forward',
          title: `Retiring replication ${flip.from} → ${flip.to}`,
          run: async () => {
            if (!current) return { skipped: 'nothing replicating' };
            await dropSubscription(to, current.subscription);
            await dropSlot(from, current.slot);
            await dropPublication(from, current.publication);
            return `${current.subscription} dropped`;
          },
        },
        ...(reverse
          ? [
              {
                name: 'subscribe-reverse',
                title: `Subscribing ${flip.from} to ${flip.to}'s writes`,
                run: async () => {
                  if (!(await subscriptionHealth(from, next.subscription)).exists)
                    await createSubscription(from, next, config.addresses[flip.to].peer);
                  if (!(await waitForApplyWorker(from, next.subscription, 15_000))) {
                    throw new BlueGreenError(`the apply worker of ${next.subscription} on ${flip.from} did not start within 15 s`, {
                      hint: `See ${flip.from}'s log for why; ${flip.to}'s slot keeps every write until it runs.`,
                    });
                  }
                  return `${flip.from} now follows ${flip.to}'s writes`;
                },
              },
            ]
          : []),
      ]
    : freezeRollback
      ? [stopCountingStep(ctx)]
      : [];

  async function replicationGuardrails(): Promise<string> {
    if (!current)
      throw new BlockedError(`no replication ${flip.from} → ${flip.to} is recorded for this cutover`, {
        hint: 'Clone again in replicate mode.',
      });
    await refuseLostSlot(from, current.slot, flip);
    // A subscription made moments ago may still be waiting for the launcher to start its worker.
    await waitForApplyWorker(to, current.subscription, 10_000);
    const health = await subscriptionHealth(to, current.subscription);
    if (!health.exists || !health.enabled || !health.workerRunning) {
      throw new BlockedError(
        `replication ${flip.from} → ${flip.to} is not running (subscription ${current.subscription}: ${!health.exists ? 'missing' : !health.enabled ? 'disabled' : 'no apply worker'})`,
        {
          hint: `Check ${flip.to}'s log for the apply worker's error (a conflict, a missing column) and fix it; \`bluegreen status\` shows the lag.`,
        },
      );
    }
    const lag = await slotLag(from, current.slot);
    // An error counted earlier (a restart of the other side, a repaired gap) says nothing if the worker
    // applies now: a heartbeat through it within a moment proves it, and the count starts again.
    if (health.applyErrors > 0 && lag.lagBytes > 0 && (await appliesNow(from, to, Math.min(3000, ctx.deadline() - performance.now())))) {
      await resetSubscriptionErrors(to, current.subscription);
    } else if (health.applyErrors > 0 && lag.lagBytes > 0) {
      throw new BlockedError(
        `replication ${flip.from} → ${flip.to} is failing: its apply worker on ${flip.to} has failed ${health.applyErrors} time${health.applyErrors > 1 ? 's' : ''} since the last repair and is ${lag.lagBytes} bytes behind`,
        {
          hint: `\`bluegreen status\` shows the likely cause; ${flip.to}'s log has the apply worker's error (a conflict, a missing column). Fix it (\`bluegreen sync-schema\` carries missing columns and tables), then retry.`,
        },
      );
    }
    if (lag.lagBytes > config.switchover.maxLagBytes) {
      throw new BlockedError(`replication lag is ${lag.lagBytes} bytes, over switchover.maxLagBytes (${config.switchover.maxLagBytes})`, {
        hint: 'Wait for the subscriber to catch up (`bluegreen status`), then retry.',
      });
    }
    return `replication running, lag ${lag.lagBytes} bytes`;
  }

  async function appliesNow(publisher: Client, subscriber: Client, ms: number): Promise<boolean> {
    if (ms <= 0) return false;
    try {
      await waitForHeartbeat(subscriber, await beatHeartbeat(publisher), performance.now() + ms, 'the apply worker');
      return true;
    } catch {
      return false;
    }
  }

  return { main, after };
}
