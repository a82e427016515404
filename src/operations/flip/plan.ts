/**
 * The flip's runbook: switchover (blue → green) and rollback (green → blue) as one plan of operations,
 * each in its file with its undo beside it. Before the pause: statistics, the schema carried and judged,
 * views refreshed, guardrails, the new direction's publication and slot. Inside it: PAUSE, freeze, drain,
 * then the independent steps at once (sequences, the new slot's start, the side we go to opened, the
 * pointer flipped), RESUME. After it (no undo: traffic is on the new side): the old direction retired,
 * the other side subscribed. `resume` builds the same plan to undo or finish a flip.
 */
import type { Loss } from '../../core/window.js';
import type { TableChanges } from '../../adapters/change-counter.js';
import { type Outputs, type Planned, step } from '../operation.js';
import { analyze } from './analyze.js';
import { blockers } from './blockers.js';
import { carryLargeObjects } from './carry-large-objects.js';
import { carryLargeObjectsChanged } from './carry-large-objects-changed.js';
import { carryToLeaving } from './carry-to-leaving.js';
import { checkUnlogged } from './check-unlogged-tables.js';
import { type FlipContext, preparesReverse, replicates } from './context.js';
import { copyUnlogged } from './copy-unlogged-tables.js';
import { countChanges } from './count-changes.js';
import { drain } from './drain.js';
import { freezeLeaving } from './freeze-leaving.js';
import { guardrails } from './guardrails.js';
import { openGoing } from './open-going.js';
import { pause } from './pause.js';
import { pointTraffic } from './point-traffic.js';
import { prepareReverse } from './prepare-reverse.js';
import { recountChanges } from './recount-changes.js';
import { refreshMaterializedViews } from './refresh-materialized-views.js';
import { resumeTraffic } from './resume-traffic.js';
import { startReverseSlot } from './start-reverse-slot.js';
import { stopCounting } from './stop-counting.js';
import { stopForward } from './stop-forward.js';
import { subscribeReverse } from './subscribe-reverse.js';
import { syncSchema } from './sync-schema.js';
import { syncSequences } from './sync-sequences.js';
import { verify } from './verify.js';

type FlipPlan = ReadonlyArray<Planned<FlipContext>>;

/** Freeze mode: blue keeps no copy of green's writes, so green counts them from the switchover on, and the rollback gives them up. */
function freezeRollback(ctx: FlipContext): boolean {
  return !replicates(ctx) && ctx.flip.direction === 'rollback' && !!ctx.state.greenXidAtSwitchover;
}

/** The runbook, top to bottom: `main` up to RESUME (undone in reverse on a failure before it), `after` past it. */
export function flipPlan(ctx: FlipContext): { main: FlipPlan; after: FlipPlan } {
  const replicate = replicates(ctx);
  const reverse = preparesReverse(ctx);
  const freezeSwitchover = !replicate && ctx.flip.direction === 'switchover';
  const when = (condition: boolean, ...steps: Planned<FlipContext>[]) => (condition ? steps : []);
  const main: FlipPlan = [
    step(analyze),
    ...when(replicate, step(syncSchema), step(carryToLeaving)),
    step(refreshMaterializedViews),
    ...when(freezeSwitchover, step(countChanges)),
    step(carryLargeObjects),
    step(checkUnlogged),
    step(blockers),
    step(guardrails),
    ...when(reverse, step(prepareReverse)),
    step(pause),
    step(freezeLeaving),
    ...when(
      freezeRollback(ctx),
      step(recountChanges, (o) => o.of(guardrails)?.greenChanges),
    ),
    ...when(replicate, step(drain)),
    step(syncSequences, (o) => o.of(pause)),
    ...when(replicate && ctx.deps.config.switchover.verify, step(verify)),
    // Logical replication does not carry large objects: what changed since the copy before the pause, the side we leave frozen.
    step(carryLargeObjectsChanged, (o) => o.of(carryLargeObjects)),
    // Unlogged tables are never published: their rows go now, the side we leave frozen (beside the steps after the drain).
    step(copyUnlogged, (o) => o.of(checkUnlogged)),
    ...when(reverse, step(startReverseSlot)),
    step(openGoing),
    step(pointTraffic),
    step(resumeTraffic),
  ];
  const after: FlipPlan = [
    ...when(replicate, step(stopForward)),
    ...when(reverse, step(subscribeReverse)),
    ...when(freezeRollback(ctx), step(stopCounting)),
  ];
  return { main, after };
}

/** Freeze mode's rollback: green's changes given up, as the recount inside the pause (or else the guardrails') found them. */
export function lostWritesOf(outputs: Outputs<FlipContext>): ReadonlyArray<TableChanges> | undefined {
  return (outputs.of(recountChanges) ?? outputs.of(guardrails)?.greenChanges)?.lostWrites;
}

/** Everything the flip gives up (accepted with --accept-data-loss), in the order its steps found it. */
export function acceptedLossesOf(outputs: Outputs<FlipContext>): ReadonlyArray<Loss> | undefined {
  const losses = [
    ...(outputs.of(syncSchema)?.acceptedLosses ?? []),
    ...(outputs.of(carryLargeObjects)?.losses ?? []),
    ...(outputs.of(checkUnlogged)?.losses ?? []),
    ...((outputs.of(recountChanges) ?? outputs.of(guardrails)?.greenChanges)?.losses ?? []),
    ...(outputs.of(carryLargeObjectsChanged)?.losses ?? []),
  ];
  return losses.length ? losses : undefined;
}
