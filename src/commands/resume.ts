/**
 * `bluegreen resume`: after a controller died (SIGKILL, a lost SSH session), finish or cleanly abort
 * what it was doing, from the recorded phase and what is really true now (where the pointer sends
 * traffic, which replication objects exist). Safe to run at any time: with nothing in progress it
 * only makes sure PgBouncer is not left paused.
 */
import { BlueGreenError } from '../core/errors.js';
import { IN_PROGRESS } from '../core/phases.js';
import { sameTargetAs } from '../core/pgbouncer-ini.js';
import type { Report } from '../core/report.js';
import { advance, type CutoverState, type Side } from '../core/state.js';
import { type Client, withClient } from '../adapters/pg.js';
import { sideServedBy, sideTarget } from '../adapters/pointer.js';
import { enableSubscription, replicationNames, subscriptionHealth } from '../adapters/replication.js';
import { flipSteps } from './flip-plan.js';
import type { PlanStep } from '../operations/runner.js';
import { dropAllReplication } from './cleanup.js';
import { interruptedCloneSteps } from '../operations/clone/recorded.js';
import { sidesToClean } from '../operations/finalize/plan.js';
import { dropLeftScratchCopies } from '../operations/migrate/effect-check.js';
import { greenUnreachable } from './rollback-without-green.js';
import { conn, controlled, type Deps, loadState } from './context.js';
import { runSteps, type Step } from '../operations/runner.js';

export interface ResumeResult extends Report {
  readonly from: string;
  readonly outcome: 'nothing-to-resume' | 'finished' | 'aborted';
  readonly phase: string;
  readonly serving: Side;
}

export async function _resume(deps: Deps): Promise<ResumeResult> {
  const { config, pointer } = deps;
  const at = () => deps.clock.now().toISOString();
  const url = (side: Side) => (side === 'blue' ? config.blue : config.green);
  return controlled(deps, 'resume', async () => {
    let state = await loadState(deps);
    const from = state.phase;
    // A flip killed halfway through a fleet leaves instances disagreeing: the pointer change did not
    // complete, so every instance goes back to the side the record says serves.
    const all = await pointer.currentAll();
    const targets = all.flatMap((a) => (a.target ? [a.target] : []));
    if (targets.length === all.length && targets.some((t) => !sameTargetAs(t, targets[0])))
      await pointer.flip(sideTarget(config, state.serving), state.serving);
    const current = await pointer.current();
    const servingNow: Side | undefined = sideServedBy(config, current);
    if (!servingNow) {
      throw new BlueGreenError(`the pointer sends traffic to ${current.host}:${current.port}/${current.database}, neither blue nor green`, {
        hint: 'Point it back at one of them by hand, then run `bluegreen resume` again.',
      });
    }
    const resumePgbouncer: Step = {
      name: 'resume-pgbouncer',
      title: 'Making sure PgBouncer is not paused',
      run: async () => (pointer.canPause ? void (await pointer.resume()) : { skipped: 'file pointer' }),
    };
    const finish = async (
      steps: Step[],
      outcome: ResumeResult['outcome'],
      update: (s: CutoverState) => CutoverState,
    ): Promise<ResumeResult> => {
      let result = await runSteps(steps, deps.progress, config.secrets);
      if (result.failed) {
        // Every step here is safe to repeat: a moment later the failed one and the rest are tried once more
        // (a slot still held by a walsender that is exiting, a pooler still reloading after a killed controller).
        const at = steps.findIndex((st) => st.name === result.failed!.step);
        await new Promise((r) => setTimeout(r, 2000));
        const again = await runSteps(steps.slice(at), deps.progress, config.secrets);
        result = { steps: [...result.steps.slice(0, at), ...again.steps], failed: again.failed };
      }
      if (result.failed) {
        const err = result.failed.error;
        return {
          ok: false,
          from,
          outcome,
          phase: state.phase,
          serving: servingNow,
          steps: result.steps,
          error: {
            code: err.code,
            exitCode: err.exitCode,
            message: `resume failed at ${result.failed.step}: ${err.message}`,
            hint: 'Fix the cause and run `bluegreen resume` again; it is safe to repeat.',
          },
        };
      }
      state = update(state);
      await deps.store.save(state);
      return { ok: true, from, outcome, phase: state.phase, serving: servingNow, steps: result.steps };
    };

    // A flip that put traffic on the new side but did not finish its steps after RESUME (the old direction
    // retired, the new one subscribed): those steps, from the flip's own plan, with the old link it recorded.
    const finishAfterSteps = async (u: NonNullable<CutoverState['unfinishedFlip']>): Promise<ResumeResult> => {
      const leaving: Side = u.direction === 'switchover' ? 'blue' : 'green';
      const going: Side = leaving === 'blue' ? 'green' : 'blue';
      const next = replicationNames(state.id, u.direction === 'switchover' ? 'rev' : 'fwd');
      const asOf = { ...state, ...(u.direction === 'switchover' ? { forward: u.retiring } : { reverse: u.retiring }) };
      return withClient(
        url(leaving),
        (fromClient) =>
          withClient(
            url(going),
            async (toClient) => {
              const sessions = oneSessionEach(fromClient, toClient);
              const flip = { direction: u.direction, from: leaving, to: going } as const;
              const deadline = () => performance.now() + 30_000;
              const ctx = {
                deps,
                flip,
                state: asOf,
                sessions,
                findings: {},
                acceptDataLoss: false,
                startBudget: () => undefined,
                deadline,
              };
              const { after } = flipSteps(ctx, next);
              const steps = after.map((st) => ({ name: st.name, title: st.title, run: st.run }));
              return finish(steps, 'finished', (s) => ({ ...s, unfinishedFlip: undefined, lastError: undefined }));
            },
            conn(deps, going, 'resume'),
          ),
        conn(deps, leaving, 'resume'),
      );
    };
    if (!IN_PROGRESS.has(from) && state.unfinishedFlip) return finishAfterSteps(state.unfinishedFlip);
    if (!IN_PROGRESS.has(from)) {
      return finish([resumePgbouncer], 'nothing-to-resume', (s) => s);
    }
    if (from === 'cloning') {
      // The clone's own undo, from its journal: see src/operations/clone/recorded.ts.
      return finish(interruptedCloneSteps(deps, state, resumePgbouncer), 'aborted', (s) =>
        advance(s, 'clone-failed', at(), deps.who, {
          blueFrozen: false,
          forward: undefined,
          lastError: 'clone interrupted; aborted by resume',
        }),
      );
    }
    if (from === 'migrating') {
      // Each migration ran in its own transaction, recorded with it: the history on green is the truth.
      // A kill during the effect check leaves its scratch copy of green behind: dropped here.
      const dropScratch: Step = {
        name: 'drop-scratch',
        title: "Dropping the effect check's scratch copies of green",
        run: async () => {
          const n = await dropLeftScratchCopies(config);
          return n ? `${n} dropped` : { skipped: 'none left' };
        },
      };
      return finish([resumePgbouncer, dropScratch], 'finished', (s) =>
        advance(s, 'migrate-finished', at(), deps.who, {
          lastError: 'migrate interrupted; each migration is all or nothing: run `bluegreen migrate` again for the rest',
        }),
      );
    }
    if (from === 'finalizing') {
      return finish(
        [
          resumePgbouncer,
          {
            name: 'drop-replication',
            title: 'Dropping every replication object of ours',
            run: async () => void (await dropAllReplication(deps, sidesToClean(config.stateDir, state))),
          },
        ],
        'finished',
        (s) => advance(s, 'finalize-finished', at(), deps.who, { forward: undefined, reverse: undefined }),
      );
    }

    // A flip: the pointer says whether it got to the other side. The flip's own plan says how to finish or undo it.
    const direction = from === 'switching-over' ? 'switchover' : 'rollback';
    const greenDown = direction === 'rollback' ? await greenUnreachable(deps) : undefined;
    if (greenDown) {
      throw new BlueGreenError(`the rollback cannot be finished or undone: green is unreachable (${greenDown})`, {
        hint: 'Bring green back and run `bluegreen resume` again, or put traffic on blue without it: `bluegreen rollback` says what that gives up, and does it with --accept-data-loss.',
      });
    }
    const leaving: Side = direction === 'switchover' ? 'blue' : 'green';
    const going: Side = leaving === 'blue' ? 'green' : 'blue';
    const replicate = config.mode === 'replicate';
    const flip = { direction, from: leaving, to: going } as const;
    const next = replicationNames(state.id, direction === 'switchover' ? 'rev' : 'fwd');
    const old = direction === 'switchover' ? state.forward : state.reverse;
    return withClient(
      url(leaving),
      (fromClient) =>
        withClient(
          url(going),
          async (toClient) => {
            const sessions = {
              from: fromClient,
              fromSequences: fromClient,
              to: toClient,
              toSlot: toClient,
              toOpen: toClient,
              toSequences: toClient,
            };
            const { main, after } = flipSteps(
              {
                deps,
                flip,
                state,
                sessions,
                findings: {},
                acceptDataLoss: false,
                startBudget: () => undefined,
                deadline: () => performance.now() + 30_000,
              },
              next,
            );
            const byName = (name: string) => [...main, ...after].find((st) => st.name === name);
            const asStep = (st: PlanStep | undefined, title?: string): Step[] =>
              st ? [{ name: st.name, title: title ?? st.title, run: st.run }] : [];
            if (servingNow === going) {
              // Past the flip: the drain, the sequences and the new slot were done before it. Finish the rest, as the flip would.
              // The pointer file may name the new side while the pooler never loaded it (killed between the
              // rewrite and RELOAD): the flip is made again, which is idempotent, before transactions resume.
              const reload: Step = {
                name: 'reload-pointer',
                title: `Making sure the pooler routes to ${going}`,
                run: () => pointer.flip(sideTarget(config, going), going),
              };
              const forward = [...asStep(byName(`open-${going}`), `Making sure ${going} takes writes`), reload, resumePgbouncer];
              return finish([...forward, ...asStep(byName('stop-forward')), ...asStep(byName('subscribe-reverse'))], 'finished', (s) => {
                const now = at();
                return advance(s, direction === 'switchover' ? 'switchover-finished' : 'rollback-finished', now, deps.who, {
                  serving: going,
                  blueFrozen: going === 'green',
                  lastError: `${direction} interrupted after the flip; finished by resume`,
                  ...(replicate
                    ? direction === 'switchover'
                      ? { forward: undefined, reverse: next }
                      : { forward: next, reverse: undefined }
                    : {}),
                  ...(direction === 'switchover'
                    ? { switchedOverAt: now, rollbackWindowEndsAt: new Date(Date.parse(now) + config.rollbackWindowMs).toISOString() }
                    : {}),
                });
              });
            }
            // Before the flip: every undo of the plan, in reverse (each is idempotent: resume cannot know how far
            // the flip got). The side we were leaving is opened before PgBouncer lets transactions go.
            const undos: Step[] = [...main]
              .reverse()
              .filter((st) => st.undo)
              .map((st) => ({
                name: `undo-${st.name}`,
                title: `Undoing ${st.name}${st.undone ? ` (${st.undone})` : ''}`,
                run: async () => {
                  // Nothing of this flip recorded its pause start: RESUME is issued whatever it was.
                  if (st.name === 'pause') return void (pointer.canPause ? await pointer.resume() : undefined);
                  await st.undo!();
                },
              }));
            return finish(
              [
                ...undos,
                ...(replicate
                  ? [
                      {
                        name: 'keep-replicating',
                        title: `Making sure ${leaving} → ${going} replication runs`,
                        run: async () => {
                          if (!old) return { skipped: 'nothing recorded' };
                          const health = await subscriptionHealth(toClient, old.subscription);
                          if (!health.exists) throw new BlueGreenError(`subscription ${old.subscription} is gone: clone again`);
                          if (!health.enabled) await enableSubscription(toClient, old.subscription);
                        },
                      } satisfies Step,
                    ]
                  : []),
              ],
              'aborted',
              (s) =>
                advance(s, direction === 'switchover' ? 'switchover-aborted' : 'rollback-aborted', at(), deps.who, {
                  lastError: `${direction} interrupted before the flip; undone by resume`,
                }),
            );
          },
          conn(deps, going, 'resume'),
        ),
      conn(deps, leaving, 'resume'),
    );
  });
}

/** resume runs a flip's steps one at a time: one session a side serves every role the flip gives its sessions. */
function oneSessionEach(from: Client, to: Client) {
  return { from, fromSequences: from, to, toSlot: to, toOpen: to, toSequences: to };
}
