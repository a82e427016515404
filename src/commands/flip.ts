/**
 * The flip: switchover (blue → green) and rollback (green → blue) are one protocol in two directions.
 * Each step is timed; the whole is bounded by switchover.timeoutMs. On any failure or the timeout
 * the steps taken are undone in reverse (pointer back, the right side reopened), PgBouncer is
 * resumed, and the report says why: traffic always ends on exactly one database.
 */
import { BlueGreenError, DataLossRefusedError, TimeoutError } from '../core/errors.js';
import type { Report, StepResult } from '../core/report.js';
import { advance, type CutoverState, type FlipRecord, type Side } from '../core/state.js';
import { countRowsWrittenSince, currentXid, type WrittenRows, syncSequences } from '../adapters/catalog.js';
import { type Client, withClient } from '../adapters/pg.js';
import { targetOf } from '../adapters/pointer.js';
import { allowOwnWrites, freezeWrites, unfreezeWrites } from '../adapters/write-guard.js';
import { conn, controlled, type Deps, loadState } from './context.js';
import { planOnly, runSteps, type Step } from './steps.js';

export interface FlipResult extends Report {
  readonly writePauseMs?: number;
  /** Freeze mode: how long application writes were refused in all (from the clone's freeze to green opening). */
  readonly writesFrozenMs?: number;
  readonly serving: Side;
}

export type LostWrites = WrittenRows;

/** Races a step against what is left of the overall budget. */
function withinBudget<T>(promise: Promise<T>, deadline: number, what: string, timeoutMs: number): Promise<T> {
  const left = deadline - performance.now();
  if (left <= 0) return Promise.reject(new TimeoutError(`switchover.timeoutMs (${timeoutMs} ms) ran out before ${what}`));
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`switchover.timeoutMs (${timeoutMs} ms) ran out during ${what}`, {
        hint: 'Raise switchover.timeoutMs, or find what held the step (locks, long transactions) and retry.',
      })), left);
    }),
  ]).finally(() => clearTimeout(timer));
}

interface FlipPlan {
  readonly direction: 'switchover' | 'rollback';
  readonly from: Side;
  readonly to: Side;
}

export async function _flip(deps: Deps, plan: FlipPlan, options: { dryRun?: boolean; acceptDataLoss?: boolean }): Promise<FlipResult & { lostWrites?: LostWrites[] }> {
  const { config, pointer, progress } = deps;
  const at = () => deps.clock.now().toISOString();
  const started = plan.direction === 'switchover' ? 'switchover-started' : 'rollback-started';
  const url = (side: Side) => (side === 'blue' ? config.blue : config.green);
  const initial = await loadState(deps);
  advance(initial, started, at(), deps.who); // throws with advice when the phase forbids it

  if (config.mode === 'replicate') {
    throw new BlueGreenError('replicate mode is not built yet: this version switches over in freeze mode only', {
      hint: 'Set "mode": "freeze" in the config.',
    });
  }

  let lostWrites: LostWrites[] | undefined;
  const names: Array<Pick<Step, 'name' | 'title'>> = [
    { name: 'guardrails', title: 'Checking guardrails' },
    { name: 'pause', title: `Pausing new transactions (${pointer.description})` },
    { name: `freeze-${plan.from}`, title: `Freezing writes on ${plan.from}` },
    { name: 'sync-sequences', title: `Syncing sequences ${plan.from} → ${plan.to}` },
    { name: `open-${plan.to}`, title: `Opening ${plan.to} for writes` },
    { name: 'flip', title: `Pointing traffic at ${plan.to}` },
    { name: 'resume', title: 'Resuming transactions' },
  ];
  if (options.dryRun) return { ok: true, steps: planOnly(names), serving: initial.serving };

  return controlled(deps, plan.direction, async () => {
    let state = advance(await loadState(deps), started, at(), deps.who);
    await deps.store.save(state);
    const deadline = performance.now() + config.switchover.timeoutMs;
    const budget = <T>(p: Promise<T>, what: string) => withinBudget(p, deadline, what, config.switchover.timeoutMs);
    let pauseStart: number | undefined;
    let pauseMs: number | undefined;
    const done = new Set<string>();

    // Connections open before the pause: nothing inside it waits on a TCP handshake or authentication.
    return withClient(url(plan.from), (from) =>
      withClient(url(plan.to), async (to) => {
        await allowOwnWrites(from);
        await allowOwnWrites(to);
        const steps: Step[] = [
          {
            ...names[0],
            run: async () => {
              const current = await pointer.current();
              const t = targetOf(url(plan.from));
              if (current.host !== t.host || current.port !== t.port || current.database !== t.database) {
                throw new BlueGreenError(`the pointer sends traffic to ${current.host}:${current.port}/${current.database}, not to ${plan.from}`, {
                  hint: 'Someone changed the pointer by hand: check it before going on.',
                });
              }
              if (plan.direction === 'rollback' && state.greenXidAtSwitchover) {
                lostWrites = await countRowsWrittenSince(from, state.greenXidAtSwitchover);
                const total = lostWrites.reduce((s, w) => s + w.written, 0);
                if (total > 0 && !options.acceptDataLoss) {
                  throw new DataLossRefusedError(`rolling back would lose ${total} row${total > 1 ? 's' : ''} written on green since the switchover:\n${lostWrites.map((w) => `  ${w.table}: ${w.written}`).join('\n')}`, {
                    hint: 'Freeze mode keeps no copy of green\'s writes on blue. Export them first, or run again with --accept-data-loss.',
                  });
                }
                return `${total} row${total === 1 ? '' : 's'} written on green will be lost${total ? ' (accepted)' : ''}`;
              }
              return `pointer serves ${plan.from}`;
            },
          },
          {
            ...names[1],
            run: async () => {
              if (!pointer.canPause) return { skipped: 'a file pointer has no pooler to pause' };
              pauseStart = performance.now();
              await budget(pointer.pause(Math.min(config.switchover.pauseTimeoutMs, deadline - performance.now())), 'PAUSE');
              done.add('pause');
            },
          },
          {
            ...names[2],
            run: async () => {
              const ended = await budget(freezeWrites(from, `${plan.direction} to ${plan.to}`), `freezing ${plan.from}`);
              done.add('freeze');
              return ended ? `ended ${ended} open transaction${ended > 1 ? 's' : ''}` : undefined;
            },
          },
          {
            ...names[3],
            run: async () => `${await budget(syncSequences(from, to), 'the sequence sync')} advanced`,
          },
          {
            ...names[4],
            run: async () => {
              await budget(unfreezeWrites(to), `opening ${plan.to}`);
              done.add('open');
              if (plan.direction === 'switchover') {
                state = { ...state, greenXidAtSwitchover: await currentXid(to) };
              }
            },
          },
          {
            ...names[5],
            run: async () => {
              done.add('flip');
              await budget(pointer.flip(targetOf(url(plan.to)), plan.to), 'the pointer flip');
              return pointer.description;
            },
          },
          {
            ...names[6],
            run: async () => {
              if (!pointer.canPause) return { skipped: 'nothing was paused' };
              await pointer.resume();
              pauseMs = Math.round(performance.now() - pauseStart!);
              return `writes paused for ${pauseMs} ms`;
            },
          },
        ];
        const outcome = await runSteps(steps, progress, config.secrets);
        const record = (ok: boolean, error?: string): FlipRecord => ({ kind: plan.direction, at: at(), by: deps.who, ok, writePauseMs: pauseMs, steps: outcome.steps, error });
        if (!outcome.failed) {
          const now = at();
          const writesFrozenMs = plan.direction === 'switchover' && state.history.find((h) => h.event === 'clone-started')
            ? Date.parse(now) - Date.parse(state.history.filter((h) => h.event === 'clone-started').at(-1)!.at)
            : undefined;
          state = advance(state, plan.direction === 'switchover' ? 'switchover-finished' : 'rollback-finished', now, deps.who, {
            serving: plan.to,
            blueFrozen: plan.to === 'green',
            flips: [...state.flips, record(true)],
            lastError: undefined,
            ...(plan.direction === 'switchover'
              ? { switchedOverAt: now, rollbackWindowEndsAt: new Date(Date.parse(now) + config.rollbackWindowMs).toISOString() }
              : {}),
          });
          await deps.store.save(state);
          return { ok: true, steps: outcome.steps, writePauseMs: pauseMs, writesFrozenMs, serving: plan.to, lostWrites };
        }

        // Undo in reverse, each part on its own so one failure does not stop the rest.
        const undo: string[] = [];
        const attempt = async (what: string, fn: () => Promise<unknown>) => {
          try {
            await fn();
            undo.push(`${what}: done`);
          } catch (error) {
            undo.push(`${what}: FAILED (${(error as Error).message.split('\n')[0]})`);
          }
        };
        if (done.has('flip')) await attempt(`pointer back to ${plan.from}`, () => pointer.flip(targetOf(url(plan.from)), plan.from));
        if (done.has('open')) await attempt(`${plan.to} frozen again`, () => freezeWrites(to, `${plan.direction} aborted`));
        // Freeze mode keeps blue frozen until the switchover or an abort; a rollback's blue was frozen before too.
        if (done.has('freeze') && plan.direction === 'rollback') await attempt(`${plan.from} reopened`, () => unfreezeWrites(from));
        if (pauseStart !== undefined) await attempt('transactions resumed', () => pointer.resume());
        if (pauseStart !== undefined) pauseMs = Math.round(performance.now() - pauseStart);
        const err = outcome.failed.error;
        state = advance(state, plan.direction === 'switchover' ? 'switchover-aborted' : 'rollback-aborted', at(), deps.who, {
          flips: [...state.flips, record(false, err.message)],
          lastError: err.message,
        });
        await deps.store.save(state);
        const servingNow = plan.from;
        return {
          ok: false,
          steps: outcome.steps,
          writePauseMs: pauseMs,
          serving: servingNow,
          lostWrites,
          error: {
            code: err.code,
            exitCode: err.exitCode,
            message: `${plan.direction} aborted at ${outcome.failed.step}: ${err.message}\n  undo: ${undo.length ? undo.join('; ') : 'nothing to undo'}`,
            hint: `${err.hint ? `${err.hint} ` : ''}${plan.from} still serves${plan.from === 'blue' && config.mode === 'freeze' ? ' (read-only, as since the clone)' : ''}; nothing was lost. ${
              plan.direction === 'switchover' ? 'Retry `bluegreen switchover`, or `bluegreen abort` to reopen blue for writes.' : 'Retry `bluegreen rollback`.'
            }`,
          },
        };
      }, conn(deps, plan.to, plan.direction)),
    conn(deps, plan.from, plan.direction));
  });
}
