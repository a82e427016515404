/**
 * The flip: switchover (blue → green) and rollback (green → blue), one protocol in two directions
 * and both modes. The runbook is flip-plan.ts; here it is run: the record, the controller lock, the
 * connections opened before anything is paused, the budget (switchover.timeoutMs, from the
 * guardrails to RESUME), the undo on any failure before RESUME, and the report.
 */
import type { BlockerAction } from '../core/blockers.js';
import type { StepResult } from '../core/report.js';
import { advance, type CutoverState, type FlipRecord, type ReplicationLink, type Side } from '../core/state.js';
import { cancelRunningQuery } from '../adapters/pg.js';
import { replicationNames } from '../adapters/replication.js';
import { controlled, type Deps, loadState } from './context.js';
import { type FlipDirection, type FlipFindings, type FlipSessions, flipSteps } from './flip-plan.js';
import { undoOnNewSessions, withSessions } from './flip-sessions.js';
import { type Budget, failedUndos, runPlan, undoSteps } from '../operations/runner.js';
import { sideServedBy } from '../adapters/pointer.js';
import { windowStatus, type WindowStatus } from './status.js';
import { greenUnreachable, lossStatement, rollbackWithoutGreen } from './rollback-without-green.js';
import { planOnly } from '../operations/runner.js';
import { recordBaseline } from './sync-schema.js';
import type { Report } from '../core/report.js';
import type { TableChanges } from '../adapters/change-counter.js';

export interface FlipResult extends Report {
  readonly writePauseMs?: number;
  /** A PgBouncer fleet: each instance's own pause (PAUSE → RESUME on it). */
  readonly pausesMs?: ReadonlyArray<{ readonly instance: string; readonly ms: number }>;
  /** Freeze mode: how long application writes were refused in all (from the clone's freeze to green opening). */
  readonly writesFrozenMs?: number;
  readonly serving: Side;
}

export type LostWrites = TableChanges;

export async function _flip(
  deps: Deps,
  flip: FlipDirection,
  options: { dryRun?: boolean; acceptDataLoss?: boolean; blockers?: BlockerAction },
): Promise<FlipResult & { lostWrites?: LostWrites[] }> {
  const { config, pointer, progress } = deps;
  const replicate = config.mode === 'replicate';
  const at = () => deps.clock.now().toISOString();
  const started = flip.direction === 'switchover' ? 'switchover-started' : 'rollback-started';
  const initial = await loadState(deps);
  // Green lost in the window (or lost during a rollback that then stopped): the way back needs only blue.
  if (flip.direction === 'rollback' && !options.dryRun && (initial.phase === 'switched-over' || initial.phase === 'rolling-back')) {
    const why = await greenUnreachable(deps);
    if (why)
      return controlled(deps, 'rollback', async () => rollbackWithoutGreen(deps, await loadState(deps), why, !!options.acceptDataLoss));
    // A switchover that gave up reverse replication (declared, accepted): blue never got green's writes.
    if (replicate && initial.phase === 'switched-over' && !initial.reverse) {
      return controlled(deps, 'rollback', async () =>
        rollbackWithoutGreen(deps, await loadState(deps), undefined, !!options.acceptDataLoss),
      );
    }
  }
  advance(initial, started, at(), deps.who); // throws with advice when the phase forbids it
  const next = replicationNames(initial.id, flip.direction === 'switchover' ? 'rev' : 'fwd');
  if (options.dryRun) {
    // The plan's steps, not run: their closures touch no session until they do.
    const { main, after } = flipSteps(
      {
        deps,
        flip,
        state: initial,
        sessions: {} as FlipSessions,
        acceptDataLoss: false,
        findings: {},
        startBudget: () => undefined,
        deadline: () => 0,
      },
      next,
    );
    // What the flip would carry and whether it would lose anything, read now (the same verdict status shows).
    const window = initial.serving === flip.from ? await windowStatus(deps, initial) : undefined;
    // A switchover that gave up reverse replication: its rollback gives up green's writes, whatever the schema.
    const noReverse = flip.direction === 'rollback' && replicate && initial.phase === 'switched-over' && !initial.reverse;
    const givenUp = noReverse ? `WOULD LOSE: ${lossStatement(deps, initial)}; refused unless --accept-data-loss` : undefined;
    const verdictText = givenUp ?? (window && describeVerdict(window));
    const verdict: StepResult[] = verdictText ? [{ name: 'verdict', status: 'skipped', ms: 0, detail: verdictText }] : [];
    return { ok: true, steps: [...verdict, ...planOnly([...main, ...after])], serving: initial.serving };
  }

  return controlled(deps, flip.direction, async () => {
    // The pooler's admin connections first: if PgBouncer is unreachable, nothing is recorded or frozen.
    await pointer.open();
    let state = advance(await loadState(deps), started, at(), deps.who);
    await deps.store.save(state);
    const findings: FlipFindings = {};
    try {
      return await withSessions(deps, flip, async (sessions, all) => {
        let deadline = performance.now() + config.switchover.timeoutMs;
        const budget: Budget = {
          deadline: () => deadline,
          timeoutMs: config.switchover.timeoutMs,
          onTimeout: async () => void (await Promise.all(all.map((s) => cancelRunningQuery(s.url, s.client, config.secrets)))),
        };
        const { main, after } = flipSteps(
          {
            deps,
            flip,
            state,
            sessions,
            findings,
            acceptDataLoss: !!options.acceptDataLoss,
            blockers: options.blockers,
            // The budget starts with the guardrails: statistics and the schema carry before them are not part of the switch.
            startBudget: () => void (deadline = performance.now() + config.switchover.timeoutMs),
            deadline: () => deadline,
          },
          next,
        );
        const outcome = await runPlan(main, { progress, secrets: config.secrets, budget });
        const record = (ok: boolean, stepResults: StepResult[], error?: string): FlipRecord => ({
          kind: flip.direction,
          at: at(),
          by: deps.who,
          ok,
          writePauseMs: findings.pauseMs,
          steps: stepResults,
          error,
          ...(ok && findings.acceptedLosses ? { acceptedLosses: findings.acceptedLosses } : {}),
        });

        /** Past RESUME: the `after` steps, the record, the report. `stoppedNote` when this finishes a flip forward after a failure. */
        const finish = async (mainSteps: StepResult[], stoppedNote?: string) => {
          // Past RESUME traffic is on the new side: these steps cannot undo the flip; they are run, and reported, on their own.
          const post = await runPlan(after, { progress, secrets: config.secrets, undoOnFailure: false });
          const allSteps = [...mainSteps, ...post.steps];
          const now = at();
          const lastClone = state.history.filter((h) => h.event === 'clone-started').at(-1);
          const writesFrozenMs =
            !replicate && flip.direction === 'switchover' && lastClone ? Date.parse(now) - Date.parse(lastClone.at) : undefined;
          state = advance(state, flip.direction === 'switchover' ? 'switchover-finished' : 'rollback-finished', now, deps.who, {
            serving: flip.to,
            blueFrozen: flip.to === 'green',
            flips: [...state.flips, record(true, allSteps)],
            lastError: stoppedNote ?? (post.failed ? post.failed.error.message : undefined),
            unfinishedFlip: post.failed ? { direction: flip.direction, retiring: retiringLink(flip.direction, state) } : undefined,
            ...(findings.greenXidAtSwitchover ? { greenXidAtSwitchover: findings.greenXidAtSwitchover } : {}),
            ...(replicate
              ? flip.direction === 'switchover'
                ? { forward: undefined, reverse: state.privileges?.rollbackLossless === false ? undefined : next }
                : { forward: next, reverse: undefined }
              : {}),
            ...(flip.direction === 'switchover'
              ? { switchedOverAt: now, rollbackWindowEndsAt: new Date(Date.parse(now) + config.rollbackWindowMs).toISOString() }
              : {}),
          });
          await deps.store.save(state);
          if (findings.toSchemaAtFlip) recordBaseline(config.stateDir, state.id, flip.to, findings.toSchemaAtFlip);
          if (findings.acceptedLosses) {
            await deps.store.audit({
              at: now,
              by: deps.who,
              command: flip.direction,
              cutover: state.id,
              outcome: 'data-loss-accepted',
              detail: findings.acceptedLosses.map((l) => `${l.object}: ${l.what}`).join('; '),
            });
          }
          const base = { steps: allSteps, writePauseMs: findings.pauseMs, pausesMs: findings.pausesMs, serving: flip.to };
          if (stoppedNote) {
            return {
              ...base,
              ok: false,
              error: {
                code: 'finished-forward',
                exitCode: 1,
                message: stoppedNote,
                hint: `${flip.to} serves and takes writes. \`bluegreen status\` shows replication ${flip.to} → ${flip.from}; check what the failed step names.`,
              },
            };
          }
          if (post.failed) {
            const err = post.failed.error;
            return {
              ...base,
              ok: false,
              error: {
                code: err.code,
                message: `${flip.direction} done, ${flip.to} serves; but ${post.failed.step} failed: ${err.message}`,
                hint: `Nothing is lost: ${flip.to} takes the writes and its slot keeps them for ${flip.from}. Fix the cause, then run \`bluegreen resume\`: it finishes these steps. Until replication ${flip.to} → ${flip.from} runs, a rollback is refused.`,
              },
            };
          }
          return { ...base, ok: true, writesFrozenMs, lostWrites: findings.lostWrites };
        };
        if (!outcome.failed) return finish(outcome.steps);

        const err = outcome.failed.error;
        const notReached = after.map((s): StepResult => ({ name: s.name, status: 'skipped', ms: 0, detail: 'not reached' }));
        let undone = outcome.undone;
        let recovered = false;
        if (!outcome.pastNoReturn && failedUndos(undone).length) {
          // An undo failed and the chain stopped there: where the pointer sends traffic now decides the way.
          const where = await pointer.current().then(
            (t) => sideServedBy(config, t),
            () => undefined,
          );
          if (where === flip.to) {
            if (pointer.canPause) await pointer.resume().catch(() => undefined);
            return finish(
              outcome.steps,
              `${flip.direction} failed at ${outcome.failed.step} (${err.message.split('\n')[0]}) and the undo could not bring traffic back (${failedUndos(undone).join('; ')}): the pointer sends it to ${flip.to}, which was ready, so the ${flip.direction} was finished forward instead of undone.`,
            );
          }
          if (where === flip.from) {
            // The pointer is on the side we were leaving: the failed undo is tried once more, then the rest, on new
            // sessions (a side that crashed and restarted, or a cut network, leaves the flip's own sessions dead).
            const left = [...(outcome.undoFailed ? [outcome.undoFailed] : []), ...(outcome.notUndone ?? [])].map((st) => st.name);
            const again = await undoOnNewSessions(deps, flip, state, next, left);
            undone = [...undone, ...again.map((l) => `retried: ${l}`)];
            recovered = !failedUndos(again).length;
          } else {
            // The pointer cannot be read (or the instances disagree): the side we were going to is frozen
            // again before anyone is let through, so no client can write on both sides.
            const reopened = outcome.notUndone?.find((st) => st.name === `open-${flip.to}`);
            if (reopened) undone = [...undone, ...(await undoSteps([reopened], config.secrets)).lines];
          }
          // Never leave clients paused, whatever else failed.
          if (pointer.canPause) await pointer.resume().catch(() => undefined);
        }
        const brokenUndos = failedUndos(undone);
        if (outcome.pastNoReturn || (brokenUndos.length && !recovered)) {
          // Not undone, or not wholly: the record stays in the flip's phase, for `resume` to finish or undo from what is true.
          state = { ...state, flips: [...state.flips, record(false, outcome.steps, err.message)], lastError: err.message };
          await deps.store.save(state);
          if (outcome.pastNoReturn && pointer.canPause) await pointer.resume().catch(() => undefined);
          return {
            ok: false,
            steps: [...outcome.steps, ...notReached],
            writePauseMs: findings.pauseMs,
            serving: outcome.pastNoReturn ? flip.to : flip.from,
            error: outcome.pastNoReturn
              ? {
                  code: err.code,
                  exitCode: 1,
                  message: `${flip.direction} stopped after ${outcome.failed.step} began: ${err.message}\n  Traffic may already be on ${flip.to} (PgBouncer let clients through on some or all instances), so nothing was undone: undoing now could throw away writes made there.`,
                  hint: `Run \`bluegreen resume\`: with the pointer on ${flip.to} it finishes the ${flip.direction} (the drain, the sequences and the new slot were done before the pause ended). If it cannot, check each PgBouncer (SHOW DATABASES; RESUME ${deps.config.pointer.type === 'pgbouncer' ? deps.config.pointer.database : '<db>'}) and decide which side serves; \`bluegreen status\` shows what the pointer says now.`,
                }
              : {
                  code: err.code,
                  exitCode: 1,
                  message: `${flip.direction} failed at ${outcome.failed.step} and ${brokenUndos.length} of its undo steps FAILED:\n  ${brokenUndos.join('\n  ')}\n  (the failure: ${err.message.split('\n')[0]}; the undo: ${undone.join('; ')})`,
                  hint: `What serves and whether writes are frozen is not known to be as before. Run \`bluegreen resume\`: it finishes or undoes the ${flip.direction} from what is true now and is safe to repeat; \`bluegreen status\` shows where the pointer sends traffic.`,
                },
          };
        }
        state = advance(state, flip.direction === 'switchover' ? 'switchover-aborted' : 'rollback-aborted', at(), deps.who, {
          flips: [...state.flips, record(false, outcome.steps, err.message)],
          lastError: err.message,
        });
        await deps.store.save(state);
        const current = flip.direction === 'switchover' ? state.forward : state.reverse;
        const stillSynced = replicate && current ? ` Replication ${flip.from} → ${flip.to} keeps running.` : '';
        return {
          ok: false,
          steps: [...outcome.steps, ...notReached],
          writePauseMs: findings.pauseMs,
          serving: flip.from,
          lostWrites: findings.lostWrites,
          error: {
            code: err.code,
            exitCode: err.exitCode,
            message: `${
              recovered
                ? `${flip.direction} aborted at ${outcome.failed.step}, and its undo was redone on new sessions ` +
                  `(${brokenUndos.length} undo step${brokenUndos.length > 1 ? 's' : ''} failed on the flip's own: ` +
                  'a side restarted or a connection was cut); every undo is now done'
                : brokenUndos.length
                  ? `${flip.direction} aborted at ${outcome.failed.step}, and an undo FAILED: ${brokenUndos.join('; ')} (the pointer serves ${flip.from}, so the rest was undone)`
                  : `${flip.direction} aborted at ${outcome.failed.step}`
            }: ${err.message}\n  undo: ${undone.length ? undone.join('; ') : 'nothing to undo'}`,
            hint: `${err.hint ? `${err.hint} ` : ''}${flip.from} still serves${!replicate && flip.from === 'blue' ? ' (read-only, as since the clone)' : ''}${brokenUndos.length && !recovered ? '; check what the failed undo left behind' : '; nothing was lost'}.${stillSynced} ${
              flip.direction === 'switchover'
                ? `Retry \`bluegreen switchover\`${replicate ? '' : ', or `bluegreen abort` to reopen blue for writes'}.`
                : 'Retry `bluegreen rollback`.'
            }`,
          },
        };
      });
    } finally {
      await pointer.close();
    }
  });
}

/** The window's verdict in one line, for a flip's --dry-run. */
function describeVerdict(w: WindowStatus): string {
  if (w.error) return `whether it would lose anything: ${w.error}`;
  const losses = w.losses.map((l) => `${l.object} (${l.what})`).join('; ');
  const carry = w.pending.length ? `; sync-schema would carry first: ${w.pending.join('; ')}` : '';
  return `${w.verdict === 'lossless' ? 'lossless' : `WOULD LOSE: ${losses}; refused unless --accept-data-loss`}${carry}`;
}

/** The direction a flip retires: blue → green for a switchover, green → blue for a rollback. */
function retiringLink(direction: 'switchover' | 'rollback', state: CutoverState): ReplicationLink | undefined {
  return direction === 'switchover' ? state.forward : state.reverse;
}
