/**
 * The guardrails, where the budget starts: the pointer still sends traffic to the side we leave, the
 * pooler can be paused, and (replicate mode) replication to the side we go to runs, close behind; freeze
 * mode's rollback counts what green changed since the switchover (refused, or given up, here).
 */
import { BlockedError, DataLossRefusedError } from '../../core/errors.js';
import { unfinishedReseedRefusal } from '../../core/reseed.js';
import type { Client } from '../../adapters/pg.js';
import { sideServedBy } from '../../adapters/pointer.js';
import { resetSubscriptionErrors, slotLag, subscriptionHealth, waitForApplyWorker } from '../../adapters/replication.js';
import { beatHeartbeat, waitForHeartbeat } from '../../adapters/heartbeat.js';
import { refusePoolModes } from '../../commands/flip-blockers.js';
import { refuseLostSlot } from '../../commands/flip-faults.js';
import { noted, type Done } from '../operation.js';
import { currentLink, type FlipContext, type FlipOperation, replicates } from './context.js';
import { countGreenChanges, type GreenChanges } from './green-changes.js';

export interface GuardrailsPassed {
  /** Freeze mode's rollback: what green changed since the switchover, given up (the recount inside the pause checks it). */
  readonly greenChanges?: GreenChanges;
}

export const guardrails: FlipOperation<void, GuardrailsPassed | undefined> = {
  name: 'guardrails',
  title: () => 'Checking guardrails',
  run: async (ctx): Promise<Done<GuardrailsPassed | undefined>> => {
    const { config, pointer } = ctx.deps;
    const { flip } = ctx;
    ctx.startBudget();
    const reseeding = flip.to === 'blue' ? unfinishedReseedRefusal(ctx.state) : undefined;
    if (reseeding) throw reseeding;
    const currentTarget = await pointer.current();
    if (sideServedBy(config, currentTarget) !== flip.from) {
      const { host, port, database } = currentTarget;
      throw new BlockedError(`the pointer sends traffic to ${host}:${port}/${database}, not to ${flip.from}`, {
        hint: 'Someone changed the pointer by hand: check it before going on.',
      });
    }
    await refusePoolModes(pointer, config.pointer.type === 'pgbouncer' ? config.pointer.database : '');
    if (replicates(ctx)) return noted(await replicationGuardrails(ctx));
    if (flip.direction === 'rollback' && !ctx.state.greenXidAtSwitchover && !ctx.acceptDataLoss) {
      // Nothing to count green's changes from (a record that lost it): refused rather than taken for "none".
      throw new DataLossRefusedError("green's changes since the switchover cannot be counted (no transaction id was recorded then)", {
        hint: 'A rollback in freeze mode gives up whatever green took: export what you need, then roll back with --accept-data-loss.',
      });
    }
    if (flip.direction === 'rollback' && ctx.state.greenXidAtSwitchover) {
      const { changes, detail } = await countGreenChanges(ctx);
      return { output: { greenChanges: changes }, detail };
    }
    return noted(`pointer serves ${flip.from}`);
  },
};

async function replicationGuardrails(ctx: FlipContext): Promise<string> {
  const { flip } = ctx;
  const { config } = ctx.deps;
  const { from, to } = ctx.sessions;
  const current = currentLink(ctx);
  if (!current)
    throw new BlockedError(`no replication ${flip.from} → ${flip.to} is recorded for this cutover`, {
      hint: 'Clone again in replicate mode.',
    });
  await refuseLostSlot(from, current.slot, flip);
  // A subscription made moments ago may still be waiting for the launcher to start its worker.
  await waitForApplyWorker(to, current.subscription, 10_000);
  const health = await subscriptionHealth(to, current.subscription);
  if (!health.exists || !health.enabled || !health.workerRunning) {
    const why = !health.exists ? 'missing' : !health.enabled ? 'disabled' : 'no apply worker';
    throw new BlockedError(`replication ${flip.from} → ${flip.to} is not running (subscription ${current.subscription}: ${why})`, {
      hint:
        `Check ${flip.to}'s log for the apply worker's error (a conflict, a missing column) and fix it; ` +
        '`bluegreen status` shows the lag.',
    });
  }
  const lag = await slotLag(from, current.slot);
  // An error counted earlier (a restart of the other side, a repaired gap) says nothing if the worker
  // applies now: a heartbeat through it within a moment proves it, and the count starts again.
  const failing = health.applyErrors > 0 && lag.lagBytes > 0;
  if (failing && (await appliesNow(from, to, Math.min(3000, ctx.deadline() - performance.now())))) {
    await resetSubscriptionErrors(to, current.subscription);
  } else if (failing) {
    const times = `${health.applyErrors} time${health.applyErrors > 1 ? 's' : ''}`;
    throw new BlockedError(
      `replication ${flip.from} → ${flip.to} is failing: its apply worker on ${flip.to} has failed ${times} since the last repair ` +
        `and is ${lag.lagBytes} bytes behind`,
      {
        hint:
          `\`bluegreen status\` shows the likely cause; ${flip.to}'s log has the apply worker's error (a conflict, a missing column). ` +
          'Fix it (`bluegreen sync-schema` carries missing columns and tables), then retry.',
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
