/** One local PostgreSQL cluster for the sandbox: initdb (from a cached template), start, stop. */
import { randomBytes } from 'node:crypto';
import { chownSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { quoteLiteral } from '../core/quote.js';
import type { OsUser } from './os-user.js';

export interface ClusterInfo {
  readonly name: string;
  readonly major: number;
  readonly binDir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly port: number;
  readonly superuser: string;
  readonly password: string;
}

export interface ClusterOptions {
  readonly name: string;
  readonly dir: string;
  readonly binDir: string;
  readonly major: number;
  readonly user?: OsUser;
  /** fsync off and friends: for tests and the demo, never for measurements of durability. */
  readonly fast?: boolean;
  /** TLS only over TCP (`hostssl … scram-sha-256`), with these files. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
  /** The superuser's password (default: a random one). */
  readonly password?: string;
}

/** A free TCP port on loopback, as the kernel hands it out. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Runs a server binary as the unprivileged user when we are root. */
export function runAs(user: OsUser | undefined, file: string, args: string[], options: { env?: Record<string, string> } = {}) {
  return execa(file, args, {
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
    env: { ...options.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8', ...(user ? { HOME: user.home } : {}) },
    extendEnv: true,
    stdin: 'ignore',
  });
}

export function chownTree(target: string, user?: OsUser): void {
  if (user) chownSync(target, user.uid, user.gid);
}

/**
 * initdb is the slow part of starting a cluster (about a second and a half here), so it runs once
 * per version and OS user; each cluster is a copy of that template.
 */
async function template(binDir: string, major: number, user?: OsUser): Promise<string> {
  const root = path.join(os.tmpdir(), 'pg-bluegreen-templates');
  const dir = path.join(root, `pg${major}-uid${user?.uid ?? process.getuid?.() ?? 0}`);
  if (existsSync(path.join(dir, 'PG_VERSION'))) return dir;
  mkdirSync(root, { recursive: true, mode: 0o755 });
  const building = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}`;
  mkdirSync(building, { mode: 0o700 });
  if (user) chownSync(building, user.uid, user.gid);
  await runAs(user, path.join(binDir, 'initdb'), [
    '-D',
    building,
    '-U',
    'postgres',
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
    '--no-sync',
  ]);
  try {
    renameSync(building, dir);
  } catch {
    rmSync(building, { recursive: true, force: true }); // another process won the race: use its template
  }
  return dir;
}

/** Creates and starts a cluster on a free port; retries on a port another process took meanwhile. */
export async function startCluster(options: ClusterOptions): Promise<ClusterInfo> {
  const { name, dir, binDir, major, user } = options;
  const base = path.join(dir, name);
  const dataDir = path.join(base, 'data');
  const socketDir = path.join(base, 'sock');
  mkdirSync(base, { recursive: true, mode: 0o700 });
  chownTree(base, user);
  cpSync(await template(binDir, major, user), dataDir, { recursive: true });
  if (user) await execa('chown', ['-R', `${user.uid}:${user.gid}`, dataDir]);
  mkdirSync(socketDir, { mode: 0o700 });
  chownTree(socketDir, user);

  let lastError: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await freePort();
    const settings = [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${socketDir}'`,
      'wal_level = logical',
      'max_replication_slots = 20',
      'max_wal_senders = 20',
      'max_connections = 120',
      "password_encryption = 'scram-sha-256'",
      // fast: for tests and the demo. A short retry interval lets the launcher start a new subscription's
      // worker at once rather than up to 5 s after the last one.
      ...(options.fast
        ? ['fsync = off', 'synchronous_commit = off', 'full_page_writes = off', "wal_retrieve_retry_interval = '200ms'"]
        : []),
      ...(options.tls
        ? [
            'ssl = on',
            `ssl_cert_file = '${options.tls.certFile}'`,
            `ssl_key_file = '${options.tls.keyFile}'`,
            `ssl_ca_file = '${options.tls.caFile}'`,
          ]
        : []),
    ];
    if (options.tls) {
      // TCP only over TLS with a password; the local socket (the sandbox's own setup) stays trusted.
      writeFileAs(
        path.join(dataDir, 'pg_hba.conf'),
        [
          'local all all trust',
          'local replication all trust',
          'hostssl all all 127.0.0.1/32 scram-sha-256',
          'hostssl replication all 127.0.0.1/32 scram-sha-256',
          'host all all 0.0.0.0/0 reject',
          '',
        ].join('\n'),
        user,
      );
    }
    appendFileSync(path.join(dataDir, 'postgresql.auto.conf'), `\n# pg-bluegreen sandbox\n${settings.join('\n')}\n`);
    try {
      await runAs(user, path.join(binDir, 'pg_ctl'), ['-D', dataDir, '-l', path.join(base, 'postgres.log'), '-w', '-t', '60', 'start']);
    } catch (error) {
      lastError = error;
      const log = existsSync(path.join(base, 'postgres.log')) ? readFileSync(path.join(base, 'postgres.log'), 'utf8') : '';
      if (!/could not bind|Address already in use/i.test(log)) break;
      continue;
    }
    const password = options.password ?? randomBytes(12).toString('base64url');
    const client = new pg.Client({ host: socketDir, port, user: 'postgres', database: 'postgres' });
    await client.connect();
    try {
      await client.query(`ALTER ROLE postgres PASSWORD ${quoteLiteral(password)}`);
    } finally {
      await client.end();
    }
    return { name, major, binDir, dataDir, socketDir, port, superuser: 'postgres', password };
  }
  throw new Error(`could not start the ${name} cluster: ${(lastError as Error)?.message ?? 'unknown error'}`);
}

/**
 * Stops a cluster; ignores one that is already down. `immediate` (the default, for cleanup) is a crash:
 * with the sandbox's fast settings (synchronous_commit off) it loses commits already acknowledged,
 * as such a server would. `fast` is a clean shutdown, as for a restart.
 */
export async function stopCluster(
  cluster: Pick<ClusterInfo, 'binDir' | 'dataDir'>,
  user?: OsUser,
  mode: 'immediate' | 'fast' = 'immediate',
): Promise<void> {
  if (!existsSync(path.join(cluster.dataDir, 'postmaster.pid'))) return;
  await runAs(user, path.join(cluster.binDir, 'pg_ctl'), ['-D', cluster.dataDir, '-m', mode, '-w', '-t', '30', 'stop']).catch(
    () => undefined,
  );
}

/** `postgres://postgres:…@127.0.0.1:port/db` for a cluster. */
export function clusterUrl(
  cluster: Pick<ClusterInfo, 'port' | 'superuser' | 'password'>,
  database = 'postgres',
  password = cluster.password,
): string {
  return `postgres://${cluster.superuser}:${encodeURIComponent(password)}@127.0.0.1:${cluster.port}/${encodeURIComponent(database)}`;
}

export function writeFileAs(file: string, text: string, user?: OsUser, mode = 0o600): void {
  writeFileSync(file, text, { mode });
  chownTree(file, user);
}

/** Starts a cluster that was stopped (a restart after a crash, in the fault tests). */
export async function startStoppedCluster(cluster: Pick<ClusterInfo, 'binDir' | 'dataDir'>, user?: OsUser): Promise<void> {
  await runAs(user, path.join(cluster.binDir, 'pg_ctl'), [
    '-D',
    cluster.dataDir,
    '-l',
    path.join(path.dirname(cluster.dataDir), 'postgres.log'),
    '-w',
    '-t',
    '60',
    'start',
  ]);
}
