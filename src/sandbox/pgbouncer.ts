/** A local PgBouncer for the sandbox, in transaction pool mode, daemonised so `demo --keep` can leave it up. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { chownTree, freePort, runAs, writeFileAs } from './cluster.js';
import type { OsUser } from './os-user.js';

export interface BouncerInfo {
  readonly dir: string;
  readonly ini: string;
  readonly port: number;
  readonly adminUser: string;
  readonly adminPassword: string;
  readonly pidFile: string;
}

export interface BouncerOptions {
  readonly dir: string;
  readonly user?: OsUser;
  /** `[databases]` entries, name → libpq connection string. */
  readonly databases: Readonly<Record<string, string>>;
  /** Users clients log in as, with their passwords (PgBouncer logs in to the server with the same). */
  readonly users: Readonly<Record<string, string>>;
  readonly poolMode?: 'transaction' | 'session';
  /** Clients must use TLS (require); PgBouncer verifies the servers (verify-full) against the CA. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
  /** Its own folder's name, for a fleet (default `pgbouncer`). */
  readonly name?: string;
}

export function findPgbouncer(): string {
  for (const candidate of ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer']) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('pgbouncer is not installed (run scripts/setup.sh, or apt-get install -y pgbouncer)');
}

const quoteUserlist = (s: string) => `"${s.replace(/"/g, '""')}"`;

export async function startPgbouncer(options: BouncerOptions): Promise<BouncerInfo> {
  const dir = path.join(options.dir, options.name ?? 'pgbouncer');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownTree(dir, options.user);
  const adminUser = 'pgbadmin';
  const adminPassword = randomBytes(12).toString('base64url');
  const users = { ...options.users, [adminUser]: adminPassword };
  writeFileAs(
    path.join(dir, 'userlist.txt'),
    Object.entries(users)
      .map(([u, p]) => `${quoteUserlist(u)} ${quoteUserlist(p)}`)
      .join('\n') + '\n',
    options.user,
  );
  const ini = path.join(dir, 'pgbouncer.ini');
  const pidFile = path.join(dir, 'pgbouncer.pid');
  let lastError = '';
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await freePort();
    const text = [
      '; PgBouncer for the pg-bluegreen sandbox.',
      '; bluegreen rewrites only the entry it was told about in [databases]; everything else stays as written.',
      '[databases]',
      ...Object.entries(options.databases).map(([name, conn]) => `${name} = ${conn}`),
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = scram-sha-256',
      `auth_file = ${path.join(dir, 'userlist.txt')}`,
      `admin_users = ${adminUser}`,
      `pool_mode = ${options.poolMode ?? 'transaction'}`,
      'max_client_conn = 500',
      'default_pool_size = 20',
      'ignore_startup_parameters = extra_float_digits,options',
      `pidfile = ${pidFile}`,
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      ...(options.tls
        ? [
            'client_tls_sslmode = require',
            `client_tls_cert_file = ${options.tls.certFile}`,
            `client_tls_key_file = ${options.tls.keyFile}`,
            `client_tls_ca_file = ${options.tls.caFile}`,
            'server_tls_sslmode = verify-full',
            `server_tls_ca_file = ${options.tls.caFile}`,
          ]
        : []),
      '',
    ].join('\n');
    writeFileAs(ini, text, options.user);
    try {
      await runAs(options.user, findPgbouncer(), ['-d', ini]);
      await waitForPidFile(pidFile);
      return { dir, ini, port, adminUser, adminPassword, pidFile };
    } catch (error) {
      lastError = (error as Error).message;
      const log = existsSync(path.join(dir, 'pgbouncer.log')) ? readFileSync(path.join(dir, 'pgbouncer.log'), 'utf8') : '';
      if (!/Address already in use/i.test(log)) break;
    }
  }
  throw new Error(`could not start pgbouncer: ${lastError}`);
}

async function waitForPidFile(pidFile: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('pgbouncer did not write its pid file within 5 s');
}

/** Stops PgBouncer by its pid file and waits until the process is gone. */
export async function stopPgbouncer(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!pid) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await execa('kill', ['-9', String(pid)]).catch(() => undefined);
}

/** Starts PgBouncer again from its existing ini (after a stop, in the fault tests). */
export async function restartPgbouncer(bouncer: Pick<BouncerInfo, 'ini' | 'pidFile'>, user?: OsUser): Promise<void> {
  await runAs(user, findPgbouncer(), ['-d', bouncer.ini]);
  await waitForPidFile(bouncer.pidFile);
}
