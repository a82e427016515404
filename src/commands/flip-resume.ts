/**
 * `resume` of a flip a killed controller left: the pointer says whether it got to the other side (the
 * decision is made from what is true, not from what was recorded). Past the pointer, the flip is finished
 * forward with its own steps; before it, every undo of its plan runs in reverse, each with the output its
 * step recorded in the run's journal where there is one (an undo is idempotent: resume cannot know how far
 * a step got). And a flip that put traffic on the new side but did not finish its steps after RESUME.
 */
import { BlueGreenError } from '../core/errors.js';
import { advance, type CutoverState, type Side } from '../core/state.js';
import { type Client, withClient } from '../adapters/pg.js';
import { sideTarget } from '../adapters/pointer.js';
import { enableSubscription, replicationNames, subscriptionHealth } from '../adapters/replication.js';
import { fileJournal } from '../adapters/run-journal.js';
import { type PlanStep, silent, type Step } from '../operations/runner.js';
import { Outputs, outputsOf, planSteps } from '../operations/operation.js';
import type { FlipContext, FlipDirection } from '../operations/flip/context.js';
import { flipPlan } from '../operations/flip/plan.js';
import { openGoing } from '../operations/flip/open-going.js';
import { landed } from './flip-finish.js';
import { greenUnreachable } from './rollback-without-green.js';
import { conn, type Deps } from './context.js';
import { type ResumeResult, type Resuming, resumePgbouncer, runResume } from './resume-run.js';

/** resume runs a flip's steps one at a time: one session a side serves every role the flip gives its sessions. */
function oneSessionEach(from: Client, to: Client) {
  return { from, fromSequences: from, to, toSlot: to, toOpen: to, toSequences: to };
}

/**
 * The flip's plan as steps on one session a side, bound to the outputs its run recorded (none when the
 * journal is gone): `state` is the record the steps read (the retiring link for the steps after RESUME).
 */
async function withFlipSteps<T>(
  deps: Deps,
  flip: FlipDirection,
  state: CutoverState,
  use: (
    steps: { main: PlanStep[]; after: PlanStep[] },
    sessions: ReturnType<typeof oneSessionEach>,
    outputs: Outputs<FlipContext>,
  ) => Promise<T>,
): Promise<T> {
  const url = (side: Side) => (side === 'blue' ? deps.config.blue : deps.config.green);
  const next = replicationNames(state.id, flip.direction === 'switchover' ? 'rev' : 'fwd');
  const record = fileJournal(deps.config.stateDir, state.id, flip.direction).read();
  return withClient(
    url(flip.from),
    (fromClient) =>
      withClient(
        url(flip.to),
        async (toClient) => {
          const sessions = oneSessionEach(fromClient, toClient);
          const deadline = () => performance.now() + 30_000;
          const ctx: FlipContext = {
            deps,
            flip,
            state,
            sessions,
            next,
            acceptDataLoss: false,
            startBudget: () => undefined,
            deadline,
            live: {},
          };
          const outputs = record ? outputsOf(record, ctx) : new Outputs(ctx);
          const plan = flipPlan(ctx);
          const bind = (part: typeof plan.main) => planSteps(part, ctx, outputs, { progress: silent, secrets: deps.config.secrets });
          return use({ main: bind(plan.main), after: bind(plan.after) }, sessions, outputs);
        },
        conn(deps, flip.to, 'resume'),
      ),
    conn(deps, flip.from, 'resume'),
  );
}

const asStep = (st: PlanStep | undefined, title?: string): Step[] => (st ? [{ name: st.name, title: title ?? st.title, run: st.run }] : []);

/** Traffic on the new side, the steps after RESUME not all done: those steps, with the old link the flip recorded. */
export async function finishAfterSteps(r: Resuming, u: NonNullable<CutoverState['unfinishedFlip']>): Promise<ResumeResult> {
  const leaving: Side = u.direction === 'switchover' ? 'blue' : 'green';
  const flip = { direction: u.direction, from: leaving, to: leaving === 'blue' ? 'green' : 'blue' } as const;
  const asOf = { ...r.state, ...(u.direction === 'switchover' ? { forward: u.retiring } : { reverse: u.retiring }) };
  return withFlipSteps(r.deps, flip, asOf, ({ after }) =>
    runResume(
      r,
      after.flatMap((st) => asStep(st)),
      'finished',
      (s) => ({ ...s, unfinishedFlip: undefined, lastError: undefined }),
    ),
  );
}

/** A flip in progress when its controller died: finished forward when the pointer is past it, else undone. */
export async function resumeFlip(r: Resuming): Promise<ResumeResult> {
  const { deps, state } = r;
  const direction = state.phase === 'switching-over' ? 'switchover' : 'rollback';
  const greenDown = direction === 'rollback' ? await greenUnreachable(deps) : undefined;
  if (greenDown) {
    throw new BlueGreenError(`the rollback cannot be finished or undone: green is unreachable (${greenDown})`, {
      hint:
        'Bring green back and run `bluegreen resume` again, or put traffic on blue without it: ' +
        '`bluegreen rollback` says what that gives up, and does it with --accept-data-loss.',
    });
  }
  const leaving: Side = direction === 'switchover' ? 'blue' : 'green';
  const flip = { direction, from: leaving, to: leaving === 'blue' ? 'green' : 'blue' } as const;
  return withFlipSteps(deps, flip, state, (steps, sessions, outputs) =>
    r.servingNow === flip.to ? finishFlipForward(r, flip, steps, outputs.of(openGoing)?.xid) : undoFlip(r, flip, steps.main, sessions.to),
  );
}

/**
 * Past the flip: the drain, the sequences and the new slot were done before it. Finish the rest, as the flip would.
 * The pointer file may name the new side while the pooler never loaded it (killed between the rewrite and RELOAD):
 * the flip is made again, which is idempotent, before transactions resume.
 */
function finishFlipForward(
  r: Resuming,
  flip: FlipDirection,
  steps: { main: PlanStep[]; after: PlanStep[] },
  recordedXid: string | undefined,
): Promise<ResumeResult> {
  const { deps } = r;
  const { config, pointer } = deps;
  const { direction, to: going } = flip;
  const byName = (name: string) => [...steps.main, ...steps.after].find((st) => st.name === name);
  const reload: Step = {
    name: 'reload-pointer',
    title: `Making sure the pooler routes to ${going}`,
    run: () => pointer.flip(sideTarget(config, going), going),
  };
  const forward = [...asStep(byName(`open-${going}`), `Making sure ${going} takes writes`), reload, resumePgbouncer(deps)];
  const next = replicationNames(r.state.id, direction === 'switchover' ? 'rev' : 'fwd');
  return runResume(r, [...forward, ...asStep(byName('stop-forward')), ...asStep(byName('subscribe-reverse'))], 'finished', (s) => {
    const now = r.at();
    // Green's xid as the flip recorded it when it opened green (one read again now would miss what clients
    // wrote since): without it, freeze mode's rollback refuses to guess what it would give up.
    const xid = direction === 'switchover' ? recordedXid : undefined;
    return advance(s, direction === 'switchover' ? 'switchover-finished' : 'rollback-finished', now, deps.who, {
      serving: going,
      blueFrozen: going === 'green',
      lastError: `${direction} interrupted after the flip; finished by resume`,
      ...landed(config, s, direction, next, now, xid),
    });
  });
}

/**
 * Before the flip: every undo of the plan, in reverse, each with its step's recorded output. The side we
 * were leaving is opened before PgBouncer lets transactions go; then the old direction is made sure to run.
 */
function undoFlip(r: Resuming, flip: FlipDirection, main: PlanStep[], toClient: Client): Promise<ResumeResult> {
  const { deps, state } = r;
  const { pointer } = deps;
  const old = flip.direction === 'switchover' ? state.forward : state.reverse;
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
  const keepReplicating: Step = {
    name: 'keep-replicating',
    title: `Making sure ${flip.from} → ${flip.to} replication runs`,
    run: async () => {
      if (!old) return { skipped: 'nothing recorded' };
      const health = await subscriptionHealth(toClient, old.subscription);
      if (!health.exists) throw new BlueGreenError(`subscription ${old.subscription} is gone: clone again`);
      if (!health.enabled) await enableSubscription(toClient, old.subscription);
    },
  };
  return runResume(r, [...undos, ...(deps.config.mode === 'replicate' ? [keepReplicating] : [])], 'aborted', (s) =>
    advance(s, flip.direction === 'switchover' ? 'switchover-aborted' : 'rollback-aborted', r.at(), deps.who, {
      lastError: `${flip.direction} interrupted before the flip; undone by resume`,
    }),
  );
}
