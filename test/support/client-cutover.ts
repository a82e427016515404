/**
 * The cutover every real-client test puts its client through, and the ledger the client keeps: each
 * write the database acknowledged, with the server port that acknowledged it (PgBouncer forwards to
 * blue or green, so `inet_server_port()` says which side took the write), and every error the client
 * saw. Shared so the Node and Python clients are judged by the same sequence and the same rules.
 */
import { expect } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _status } from '../../src/commands/status.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { missingOrders, type Rig } from '../integration/helpers.js';

export interface Acknowledged {
  readonly id: number;
  /** The server port that committed it: blue's or green's. */
  readonly port: number;
}

export interface ClientLedger {
  readonly acknowledged: ReadonlyArray<Acknowledged>;
  /** Every error the client saw, as it saw it (message, or Python's exception type and message). */
  readonly errors: ReadonlyArray<string>;
  readonly maxLatencyMs: number;
}

export interface RunningClient {
  /** Acknowledged so far (the client keeps writing). */
  acknowledgedCount(): number;
  /** Stops writing after the transaction in flight and returns the whole ledger. */
  stop(): Promise<ClientLedger>;
}

export interface CutoverOutcome {
  readonly ledger: ClientLedger;
  readonly pauses: { readonly switchover?: number; readonly rollback?: number };
  readonly byPort: Readonly<Record<number, number>>;
}

/** Waits until the client has `n` more acknowledged writes: each phase must see the client write, not just wait. */
async function writesMore(client: RunningClient, n: number, what: string): Promise<void> {
  const target = client.acknowledgedCount() + n;
  const deadline = Date.now() + 20_000;
  while (client.acknowledgedCount() < target) {
    if (Date.now() > deadline) throw new Error(`the client stopped acknowledging writes ${what} (${client.acknowledgedCount()} of ${target})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * clone → switchover → writes on green → rollback, with `client` writing all along; then the ledger is
 * checked: traffic is back on blue, every acknowledged write is on blue, and writes were acknowledged
 * by both sides (so the client really went through both flips).
 */
export async function cutoverUnderClient(rig: Rig, client: RunningClient): Promise<CutoverOutcome> {
  let ledger: ClientLedger | undefined;
  const pauses: { switchover?: number; rollback?: number } = {};
  try {
    await writesMore(client, 20, 'before the clone');
    const clone = await _clone(rig.deps);
    expect(clone.error).toBeUndefined();
    await writesMore(client, 20, 'after the clone');
    const switchover = await _switchover(rig.deps);
    expect(switchover.error).toBeUndefined();
    pauses.switchover = switchover.writePauseMs;
    await writesMore(client, 40, 'on green');
    const rollback = await _rollback(rig.deps);
    expect(rollback.error).toBeUndefined();
    pauses.rollback = rollback.writePauseMs;
    await writesMore(client, 20, 'after the rollback');
  } finally {
    ledger = await client.stop();
  }
  expect((await _status(rig.deps)).serving).toBe('blue');
  const byPort: Record<number, number> = {};
  for (const a of ledger.acknowledged) byPort[a.port] = (byPort[a.port] ?? 0) + 1;
  // Both sides acknowledged writes: the client's connections followed the pointer there and back.
  expect(Object.keys(byPort).map(Number).sort()).toEqual([rig.sandbox.blue.port, rig.sandbox.green.port].sort());
  // Every write green acknowledged reached blue by reverse replication; none of blue's went missing.
  expect(await missingOrders(rig.sandbox.blueUrl, ledger.acknowledged.map((a) => a.id))).toEqual([]);
  expect(new Set(ledger.acknowledged.map((a) => a.id)).size).toBe(ledger.acknowledged.length);
  return { ledger, pauses, byPort };
}
