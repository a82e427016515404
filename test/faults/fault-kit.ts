/**
 * What the fault tests share: a writer that records every acknowledged write, a TCP proxy that can be
 * cut, a server killed -9 (every process) and restarted, and a progress port that injects a fault exactly
 * when a step starts.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { silentProgress, type Progress } from '../../src/adapters/progress.js';
import { startStoppedCluster } from '../../src/sandbox/cluster.js';
import type { OsUser } from '../../src/sandbox/os-user.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The witness: writers through PgBouncer that reconnect after a cut (a killed pooler ends every client
 * connection) and record each acknowledged order id. A write that errors was never acknowledged.
 */
export function ackWriter(url: string, connections = 2, everyMs = 20) {
  const acknowledged: number[] = [];
  let refused = 0;
  let running = true;
  const worker = async () => {
    let client: pg.Client | undefined;
    while (running) {
      try {
        if (!client) {
          client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
          client.on('error', () => undefined);
          await client.connect();
        }
        const { rows } = await client.query<{ id: string }>(`INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1 + floor(random() * 90)::int, 'ACK', 'buy', 1) RETURNING id`);
        acknowledged.push(Number(rows[0].id));
      } catch {
        refused++;
        await client?.end().catch(() => undefined);
        client = undefined;
      }
      await sleep(everyMs);
    }
    await client?.end().catch(() => undefined);
  };
  const workers = Array.from({ length: connections }, () => worker());
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      return { acknowledged, refused };
    },
  };
}

/**
 * A TCP proxy between the controller and a server that can be cut: every connection through it is destroyed
 * and new ones are refused for `downMs` (a network partition that heals), as a controller on a bastion sees it.
 */
export async function cuttableProxy(targetPort: number) {
  const sockets = new Set<net.Socket>();
  let downUntil = 0;
  const server = net.createServer((client) => {
    if (Date.now() < downUntil) return void client.destroy();
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut(downMs: number) {
      downUntil = Date.now() + downMs;
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

/**
 * Every process of the server killed -9 at once (the postmaster and its children, as a machine or an OOM
 * kill takes them), then started again: crash recovery from WAL, with nothing shut down cleanly.
 */
export async function killAndRestartCluster(cluster: { dataDir: string; binDir: string }, user: OsUser | undefined): Promise<void> {
  const pid = Number(readFileSync(path.join(cluster.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  for (const p of [pid, ...children]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 500 && [pid, ...children].some(alive); i++) await sleep(20);
  await startStoppedCluster(cluster, user);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A progress port that runs `fault` when a step whose title starts with `title` starts, once. */
export function faultAt(title: string, fault: () => Promise<void>) {
  let injected: Promise<void> | undefined;
  const progress: Progress = { ...silentProgress, start: (text) => void (text.startsWith(title) && !injected && (injected = fault())) };
  return { progress, injected: () => injected };
}
