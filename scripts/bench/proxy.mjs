// A TCP proxy that delays every chunk both ways by half a round trip: puts the network of a controller on
// a bastion host (or PgBouncer and replication across a zone) between the parts of the benchmark's sandbox.
import net from 'node:net';

/** Listens on a free port and forwards to 127.0.0.1:targetPort, each chunk delayed by rttMs / 2 each way. */
export function delayProxy(targetPort, rttMs) {
  const half = rttMs / 2;
  const sockets = new Set();
  const later = (fn) => (half > 0 ? setTimeout(fn, half) : fn());
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client); sockets.add(upstream);
    client.setNoDelay(true); upstream.setNoDelay(true);
    // Order is kept: timers of equal delay fire in the order they were set.
    client.on('data', (d) => later(() => upstream.writable && upstream.write(d)));
    upstream.on('data', (d) => later(() => client.writable && client.write(d)));
    const end = () => { later(() => { client.destroy(); upstream.destroy(); }); };
    client.on('close', end); upstream.on('close', end);
    client.on('error', () => undefined); upstream.on('error', () => undefined);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      port: server.address().port,
      close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
    }));
  });
}
