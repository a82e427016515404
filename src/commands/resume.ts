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
import { withClient } from '../adapters/pg.js';
import { sideTarget } from '../adapters/pointer.js';
import {
  createSubscription, dropPublication, dropSlot, dropSubscription, enableSubscription, replicationNames, subscriptionHealth, waitForApplyWorker,
} from '../adapters/replication.js';
import { freezeWrites, unfreezeWrites } from '../adapters/write-guard.js';
import { dropAllReplication } from './cleanup.js';
import { dropScratchCopies } from '../adapters/scratch.js';
import { dropForwardReplication } from './clone.js';
import { conn, controlled, type Deps, loadState } from './context.js';
import { runSteps, type Step } from './steps.js';

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
    if (targets.length === all.length && targets.some((t) => !sameTargetAs(t, targets[0]))) await pointer.flip(sideTarget(config, state.serving), state.serving);
    const current = await pointer.current();
    const servingNow: Side | undefined = sameTargetAs(current, sideTarget(config, 'blue')) ? 'blue' : sameTargetAs(current, sideTarget(config, 'green')) ? 'green' : undefined;
    if (!servingNow) {
      throw new BlueGreenError(`the pointer sends traffic to ${current.host}:${current.port}/${current.database}, neither blue nor green`, {
        hint: 'Point it back at one of them by hand, then run `bluegreen resume` again.',
      });
    }
    const resumePgbouncer: Step = { name: 'resume-pgbouncer', title: 'Making sure PgBouncer is not paused', run: async () => (pointer.canPause ? void (await pointer.resume()) : { skipped: 'file pointer' }) };
    const finish = async (steps: Step[], outcome: ResumeResult['outcome'], update: (s: CutoverState) => CutoverState): Promise<ResumeResult> => {
      const result = await runSteps(steps, deps.progress, config.secrets);
      if (result.failed) {
        const err = result.failed.error;
        return { ok: false, from, outcome, phase: state.phase, serving: servingNow, steps: result.steps, error: { code: err.code, exitCode: err.exitCode, message: `resume failed at ${result.failed.step}: ${err.message}`, hint: 'Fix the cause and run `bluegreen resume` again; it is safe to repeat.' } };
      }
      state = update(state);
      await deps.store.save(state);
      return { ok: true, from, outcome, phase: state.phase, serving: servingNow, steps: result.steps };
    };

    if (!IN_PROGRESS.has(from)) {
      return finish([resumePgbouncer], 'nothing-to-resume', (s) => s);
    }
    if (from === 'cloning') {
      return finish(
        [
          { name: 'open-blue', title: 'Opening blue for writes', run: () => withClient(config.blue, unfreezeWrites, conn(deps, 'blue', 'resume')) },
          resumePgbouncer,
          { name: 'drop-replication', title: 'Dropping the half-made replication objects', run: async () => { await dropForwardReplication(deps, state); await dropAllReplication(deps); } },
        ],
        'aborted',
        (s) => advance(s, 'clone-failed', at(), deps.who, { blueFrozen: false, forward: undefined, lastError: 'clone interrupted; aborted by resume' }),
      );
    }
    if (from === 'migrating') {
      // Each migration ran in its own transaction, recorded with it: the history on green is the truth.
      // A kill during the effect check leaves its scratch copy of green behind: dropped here.
      const dropScratch: Step = {
        name: 'drop-scratch',
        title: "Dropping the effect check's scratch copies of green",
        run: async () => {
          const n = await dropScratchCopies({ greenUrl: config.green, secrets: config.secrets });
          return n ? `${n} dropped` : { skipped: 'none left' };
        },
      };
      return finish([resumePgbouncer, dropScratch], 'finished', (s) => advance(s, 'migrate-finished', at(), deps.who, { lastError: 'migrate interrupted; each migration is all or nothing: run `bluegreen migrate` again for the rest' }));
    }
    if (from === 'finalizing') {
      return finish(
        [
          resumePgbouncer,
          { name: 'drop-replication', title: 'Dropping every replication object of ours', run: async () => void (await dropAllReplication(deps)) },
        ],
        'finished',
        (s) => advance(s, 'finalize-finished', at(), deps.who, { forward: undefined, reverse: undefined }),
      );
    }

    // A flip: the pointer says whether it got to the other side.
    const direction = from === 'switching-over' ? 'switchover' : 'rollback';
    const leaving: Side = direction === 'switchover' ? 'blue' : 'green';
    const going: Side = leaving === 'blue' ? 'green' : 'blue';
    const replicate = config.mode === 'replicate';
    const old = direction === 'switchover' ? state.forward : state.reverse;
    const next = replicationNames(state.id, direction === 'switchover' ? 'rev' : 'fwd');
    if (servingNow === going) {
      // Past the flip: the drain, the sequences and the new slot were done before it. Finish the rest.
      return finish(
        [
          { name: `open-${going}`, title: `Making sure ${going} takes writes`, run: () => withClient(url(going), unfreezeWrites, conn(deps, going, 'resume')) },
          resumePgbouncer,
          ...(replicate
            ? [
                {
                  name: 'stop-forward',
                  title: `Retiring replication ${leaving} → ${going}`,
                  run: async () => {
                    if (!old) return { skipped: 'nothing recorded' };
                    await withClient(url(going), (c) => dropSubscription(c, old.subscription), conn(deps, going, 'resume'));
                    await withClient(url(leaving), async (c) => { await dropSlot(c, old.slot); await dropPublication(c, old.publication); }, conn(deps, leaving, 'resume'));
                  },
                } satisfies Step,
                {
                  name: 'subscribe-reverse',
                  title: `Subscribing ${leaving} to ${going}'s writes`,
                  run: () =>
                    withClient(url(leaving), async (c) => {
                      if (!(await subscriptionHealth(c, next.subscription)).exists) await createSubscription(c, next, config.addresses[going].peer);
                      if (!(await waitForApplyWorker(c, next.subscription, 15_000))) throw new BlueGreenError(`the apply worker of ${next.subscription} did not start`);
                    }, conn(deps, leaving, 'resume')),
                } satisfies Step,
              ]
            : []),
        ],
        'finished',
        (s) => {
          const now = at();
          return advance(s, direction === 'switchover' ? 'switchover-finished' : 'rollback-finished', now, deps.who, {
            serving: going,
            blueFrozen: going === 'green',
            lastError: `${direction} interrupted after the flip; finished by resume`,
            ...(replicate ? (direction === 'switchover' ? { forward: undefined, reverse: next } : { forward: next, reverse: undefined }) : {}),
            ...(direction === 'switchover' ? { switchedOverAt: now, rollbackWindowEndsAt: new Date(Date.parse(now) + config.rollbackWindowMs).toISOString() } : {}),
          });
        },
      );
    }
    // Before the flip: undo, so the side we were leaving serves and takes writes again. It is opened
    // before PgBouncer lets transactions go, or they would meet a frozen database.
    return finish(
      [
        { name: `guard-${going}`, title: `Guarding ${going} against writes`, run: () => withClient(url(going), (c) => freezeWrites(c, `${direction} interrupted`), conn(deps, going, 'resume')).then(() => undefined) },
        ...(replicate || direction === 'rollback'
          ? [{ name: `open-${leaving}`, title: `Opening ${leaving} for writes`, run: () => withClient(url(leaving), unfreezeWrites, conn(deps, leaving, 'resume')) } satisfies Step]
          : []),
        resumePgbouncer,
        ...(replicate
          ? [
              {
                name: 'drop-new-slot',
                title: `Dropping the half-made ${going} → ${leaving} slot and publication`,
                run: () => withClient(url(going), async (c) => { await dropSlot(c, next.slot); await dropPublication(c, next.publication); }, conn(deps, going, 'resume')),
              } satisfies Step,
              {
                name: 'keep-replicating',
                title: `Making sure ${leaving} → ${going} replication runs`,
                run: async () => {
                  if (!old) return { skipped: 'nothing recorded' };
                  await withClient(url(going), async (c) => {
                    const health = await subscriptionHealth(c, old.subscription);
                    if (!health.exists) throw new BlueGreenError(`subscription ${old.subscription} is gone: clone again`);
                    if (!health.enabled) await enableSubscription(c, old.subscription);
                  }, conn(deps, going, 'resume'));
                },
              } satisfies Step,
            ]
          : []),
      ],
      'aborted',
      (s) => advance(s, direction === 'switchover' ? 'switchover-aborted' : 'rollback-aborted', at(), deps.who, { lastError: `${direction} interrupted before the flip; undone by resume` }),
    );
  });
}
