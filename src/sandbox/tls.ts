/**
 * A certificate authority and a server certificate for the sandbox, made with openssl: the TLS tests
 * run blue, green and PgBouncer with `hostssl` only and check the certificate (verify-full).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { chownTree, writeFileAs } from './cluster.js';
import type { OsUser } from './os-user.js';

export interface TlsFiles {
  /** The CA certificate clients verify against (sslrootcert). */
  readonly caFile: string;
  readonly certFile: string;
  /** The server key, 0600 and owned by the server's OS user. */
  readonly keyFile: string;
}

export async function makeTls(dir: string, user?: OsUser): Promise<TlsFiles> {
  const tls = path.join(dir, 'tls');
  mkdirSync(tls, { recursive: true, mode: 0o755 });
  const f = (name: string) => path.join(tls, name);
  const openssl = (args: string[]) => execa('openssl', args, { stdin: 'ignore' });
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '3',
    '-subj',
    '/CN=pg-bluegreen sandbox CA',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
  ]);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', f('server.key'), '-out', f('server.csr')]);
  writeFileAs(f('san.ext'), 'subjectAltName = DNS:localhost, IP:127.0.0.1\n', undefined, 0o644);
  await openssl([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '3',
    '-extfile',
    f('san.ext'),
    '-out',
    f('server.crt'),
  ]);
  chownTree(f('server.key'), user);
  return { caFile: f('ca.crt'), certFile: f('server.crt'), keyFile: f('server.key') };
}
