/**
 * A real Python client through the cutover: SQLAlchemy 1.4 with psycopg2 and SQLAlchemy's QueuePool
 * (Debian 12's python3-sqlalchemy and python3-psycopg2, the stack of the service this tool was first
 * built for), several threads writing short transactions through PgBouncer in transaction mode while
 * the tool clones, switches over and rolls back. The script prints its acknowledgements; this file
 * keeps the ledger. Durable clusters: acknowledged means on disk.
 */
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Acknowledged, cutoverUnderClient, type RunningClient } from '../support/client-cutover.js';
import { DEBIAN_PYTHON } from '../support/python.js';
import { type Rig, startRig } from './helpers.js';

const WRITER = path.resolve('test/support/sqlalchemy_writer.py');

async function startSqlalchemyWriter(url: string): Promise<RunningClient> {
  const child = execa(DEBIAN_PYTHON, [WRITER], { env: { DATABASE_URL: url, WRITER_THREADS: '4', POOL_SIZE: '3' }, reject: false, stdin: 'ignore', buffer: false });
  const acknowledged: Acknowledged[] = [];
  const errors: string[] = [];
  const other: string[] = [];
  let maxLatencyMs = 0;
  let stderr = '';
  let pending = '';
  let resolveReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (resolveReady = r));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const ack = /^ack (\d+) (\d+) (\d+)$/.exec(line);
      if (ack) {
        acknowledged.push({ id: Number(ack[1]), port: Number(ack[2]) });
        maxLatencyMs = Math.max(maxLatencyMs, Number(ack[3]));
      }
      else if (line.startsWith('error ')) errors.push(line.slice(6));
      else if (line === 'ready') resolveReady();
      else other.push(line);
    }
  });
  const exited = child.then((r) => r);
  await Promise.race([ready, exited.then((r) => Promise.reject(new Error(`the Python writer exited (${r.exitCode}) before it was ready: ${stderr}`)))]);
  return {
    acknowledgedCount: () => acknowledged.length,
    async stop() {
      child.kill('SIGTERM');
      const result = await exited;
      // A writer that crashed (a traceback outside the loop) is an error the application would see too.
      if (result.exitCode !== 0 || !other.includes('done')) errors.push(`writer exited ${result.exitCode ?? result.signal}: ${stderr.trim()}`);
      return { acknowledged, errors, maxLatencyMs };
    },
  };
}

describe('Python: SQLAlchemy 1.4 + psycopg2 with QueuePool through PgBouncer (transaction mode) across a switchover and a rollback', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate' } });
  });
  afterAll(() => rig?.stop());

  it('every acknowledged write is on the serving side and the application saw no exception', async () => {
    const { ledger, pauses, byPort } = await cutoverUnderClient(rig, await startSqlalchemyWriter(rig.sandbox.appUrl));
    // README: clients keep their PgBouncer connections and their next transaction runs on the new side; they only wait.
    expect(ledger.errors).toEqual([]);
    console.log(`SQLAlchemy QueuePool: ${ledger.acknowledged.length} writes acknowledged (blue ${byPort[rig.sandbox.blue.port]}, green ${byPort[rig.sandbox.green.port]}), 0 exceptions, longest transaction ${ledger.maxLatencyMs} ms; write pauses ${JSON.stringify(pauses)}`);
  });
});
