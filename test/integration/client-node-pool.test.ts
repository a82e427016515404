/**
 * A real client through the cutover: node-postgres' `Pool` (more tasks than connections, so the pool
 * queues as an application's does) writes short transactions through PgBouncer in transaction mode
 * while the tool clones, switches over and rolls back. Durable clusters: an acknowledged commit is on
 * disk, so "every acknowledged write is there" is a claim about the tool, not about fsync = off.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Acknowledged, cutoverUnderClient, type RunningClient } from '../support/client-cutover.js';
import { type Rig, startRig } from './helpers.js';

/** `tasks` loops share a Pool of `connections`; each transaction inserts an order and debits its account. */
function startPoolWriter(url: string, connections: number, tasks: number): RunningClient {
  const pool = new pg.Pool({ connectionString: url, max: connections, application_name: 'node-pool-client' });
  const acknowledged: Acknowledged[] = [];
  const errors: string[] = [];
  let maxLatencyMs = 0;
  let running = true;
  // An idle pooled connection that dies is reported here, not to any query: the application's log would show it.
  pool.on('error', (error) => errors.push(`idle client: ${error.message}`));
  const task = async () => {
    while (running) {
      const start = performance.now();
      try {
        const client = await pool.connect();
        let broken: Error | undefined;
        try {
          await client.query('BEGIN');
          const account = 1 + Math.floor(Math.random() * 1000);
          const { rows } = await client.query<{ id: string; port: number }>(
            `INSERT INTO orders (account_id, symbol, side, quantity, limit_price) VALUES ($1, 'NODE', 'buy', 1, 100) RETURNING id, inet_server_port() AS port`,
            [account],
          );
          await client.query('UPDATE accounts SET balance = balance - 1 WHERE id = $1', [account]);
          await client.query('COMMIT');
          acknowledged.push({ id: Number(rows[0].id), port: rows[0].port });
        } catch (error) {
          broken = error as Error;
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          // A connection that failed mid-transaction is not given back to other tasks.
          client.release(broken);
        }
      } catch (error) {
        errors.push((error as Error).message);
      }
      maxLatencyMs = Math.max(maxLatencyMs, performance.now() - start);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const loops = Array.from({ length: tasks }, () => task());
  return {
    acknowledgedCount: () => acknowledged.length,
    async stop() {
      running = false;
      await Promise.all(loops);
      await pool.end();
      return { acknowledged, errors, maxLatencyMs: Math.round(maxLatencyMs) };
    },
  };
}

describe('node-postgres Pool through PgBouncer (transaction mode) across a switchover and a rollback', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate' } });
  });
  afterAll(() => rig?.stop());

  it('every acknowledged write is on the serving side and the client saw no error', async () => {
    const { ledger, pauses, byPort } = await cutoverUnderClient(rig, startPoolWriter(rig.sandbox.appUrl, 4, 6));
    // README: clients keep their PgBouncer connections and their next transaction runs on the new side; they only wait.
    expect(ledger.errors).toEqual([]);
    console.log(`node-postgres Pool: ${ledger.acknowledged.length} writes acknowledged (blue ${byPort[rig.sandbox.blue.port]}, green ${byPort[rig.sandbox.green.port]}), 0 errors, longest transaction ${ledger.maxLatencyMs} ms; write pauses ${JSON.stringify(pauses)}`);
  });
});
