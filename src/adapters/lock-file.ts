/**
 * The controller's lock file in the state folder: it holds while blue is down (the advisory lock on
 * blue cannot), and names its holder whole (host, pid, user, command, start), where blue's
 * application_name is cut at 63 characters. Taken with O_EXCL; a lock whose process is gone on this
 * host is taken over, and the caller says so.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LockHeldError } from '../core/errors.js';
import { ensurePrivateDir } from './state-store.js';

export const LOCK_FILE = 'controller.lock';

/** What the lock file says about its holder. */
export interface LockHolder {
  readonly host: string;
  readonly pid: number;
  readonly user: string;
  readonly command: string;
  readonly startedAt: string;
  /** The process's start time as the kernel counts it (Linux): tells a live holder from a reused pid. */
  readonly pidStart?: string;
  /** Tells this taking of the lock from any other, so a release never removes someone else's lock. */
  readonly token: string;
}

/** A lock taken: `tookOver` names the dead holder it replaced, if any. */
export interface HeldLock {
  readonly file: string;
  readonly holder: LockHolder;
  readonly tookOver?: LockHolder;
  release(): void;
}

export function describeHolder(h: LockHolder): string {
  return `${h.command} run by ${h.user} on ${h.host}, pid ${h.pid}, since ${h.startedAt}`;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or undefined off Linux. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the holder's process still runs (only knowable for a holder on this host). */
function holderAlive(h: LockHolder): boolean {
  try {
    process.kill(h.pid, 0);
  } catch (error) {
    // EPERM: a process we may not signal exists.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const start = processStart(h.pid);
  return !(h.pidStart && start && start !== h.pidStart);
}

function readHolder(file: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

/** Creates `file` only if it does not exist (O_EXCL), whole: written aside first, then linked in. */
function createExclusive(file: string, holder: LockHolder): boolean {
  const aside = `${file}.${holder.token}`;
  writeFileSync(aside, `${JSON.stringify(holder, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(aside, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(aside, { force: true });
  }
}

/**
 * Takes the lock for `command` or throws LockHeldError (exit 3) naming the holder. A holder on this host
 * whose process is gone is taken over (moved aside, checked to be the one judged dead, then removed).
 */
export function takeLockFile(stateDir: string, command: string, user = os.userInfo().username): HeldLock {
  ensurePrivateDir(stateDir);
  const file = path.join(stateDir, LOCK_FILE);
  const holder: LockHolder = {
    host: os.hostname(),
    pid: process.pid,
    user,
    command,
    startedAt: new Date().toISOString(),
    pidStart: processStart(process.pid),
    token: randomBytes(6).toString('hex'),
  };
  let tookOver: LockHolder | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusive(file, holder)) {
      return {
        file,
        holder,
        tookOver,
        release: () => {
          // Only our own lock: a controller that took over from us (we were thought dead) keeps its own.
          if (readHolder(file)?.token === holder.token) rmSync(file, { force: true });
        },
      };
    }
    const current = readHolder(file);
    if (!current) continue; // Released (or half-written by a crash) between our two looks: try again.
    if (current.host !== holder.host || holderAlive(current)) {
      const elsewhere =
        current.host !== holder.host
          ? ` If that controller is gone for good (its host down), remove ${file} and run the command again.`
          : '';
      throw new LockHeldError(`another bluegreen controller is running: ${describeHolder(current)} (lock file ${file})`, {
        hint: `Wait for it to finish, or stop it. Two controllers must never act on one cutover at once.${elsewhere}`,
      });
    }
    // Dead on this host: move it aside; if what we moved is not the lock we judged dead, a live one
    // replaced it meanwhile, so put it back and look again.
    const aside = `${file}.stale-${holder.token}`;
    try {
      renameSync(file, aside);
    } catch {
      continue;
    }
    const moved = readHolder(aside);
    if (moved?.token === current.token) {
      rmSync(aside, { force: true });
      tookOver = current;
    } else {
      try {
        linkSync(aside, file);
      } catch {
        // A third controller took the lock meanwhile: it holds now. (The one we moved is then lost: three
        // controllers starting within microseconds on one host is the case this does not cover.)
      }
      rmSync(aside, { force: true });
    }
  }
  throw new LockHeldError(`the controller lock file ${file} keeps changing hands`, {
    hint: 'Another controller is starting at the same moment: wait for it, then run the command again.',
  });
}
