/**
 * initdb, postgres and pgbouncer refuse to run as root. When we are root, the sandbox runs them as an
 * unprivileged OS user: `postgres` where Debian's package made it, else one we create.
 */
import { execFileSync } from 'node:child_process';

export interface OsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /**
   * Its home folder: servers run with HOME set to it, as they would under their own login (libpq
   * looks there for ~/.postgresql and ~/.pgpass).
   */
  readonly home: string;
}

const FALLBACK_USER = 'bluegreen';

function lookup(name: string): OsUser | undefined {
  try {
    const uid = Number(
      execFileSync('id', ['-u', name], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim(),
    );
    const gid = Number(
      execFileSync('id', ['-g', name], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim(),
    );
    const home =
      execFileSync('getent', ['passwd', name], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim()
        .split(':')[5] || '/nonexistent';
    return { name, uid, gid, home };
  } catch {
    return undefined;
  }
}

/** The user to run servers as: undefined when we are not root (then we run them as ourselves). */
export function serverUser(): OsUser | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const existing = lookup('postgres') ?? lookup(FALLBACK_USER);
  if (existing) return existing;
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', FALLBACK_USER], { stdio: 'ignore' });
  const created = lookup(FALLBACK_USER);
  if (!created) throw new Error(`could not create the OS user ${FALLBACK_USER} for the sandbox`);
  return created;
}
