// A TCP proxy that delays every chunk both ways by half a round trip: puts the network of a controller on
// a bastion host (or PgBouncer and replication across a zone) between the parts of the benchmark's sandbox.
// It runs in a process of its own (`delayProxy` starts it): a network does not take the controller's event
// loop, and in the controller's process the proxy's copying slowed the flip it was measuring.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/** Starts a proxy process forwarding a free port to 127.0.0.1:targetPort, each chunk delayed by rttMs / 2 each way. */
export function delayProxy(targetPort, rttMs) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), String(targetPort), String(rttMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the delay proxy exited (${code}) before listening`)));
    child.stdout.on('data', (d) => {
      out += d;
      if (!out.includes('\n')) return;
      child.removeAllListeners('exit');
      resolve({ port: Number(out.trim()), close: () => new Promise((r) => { child.once('exit', () => r()); child.kill(); }) });
    });
  });
}

function serve(targetPort, rttMs) {
  const half = rttMs / 2;
  const later = (fn) => (half > 0 ? setTimeout(fn, half) : fn());
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    client.setNoDelay(true); upstream.setNoDelay(true);
    // Order is kept: timers of equal delay fire in the order they were set.
    client.on('data', (d) => later(() => upstream.writable && upstream.write(d)));
    upstream.on('data', (d) => later(() => client.writable && client.write(d)));
    const end = () => { later(() => { client.destroy(); upstream.destroy(); }); };
    client.on('close', end); upstream.on('close', end);
    client.on('error', () => undefined); upstream.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) serve(Number(process.argv[2]), Number(process.argv[3]));
