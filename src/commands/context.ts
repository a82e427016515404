/**
 * What every command gets: the validated config and one plain deps object. `controlled` wraps a
 * state-changing command in the controller lock and the audit log.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Config, parseConfig } from '../core/config.js';
import { BlueGreenError, ConfigInvalidError, describeError, ExitCode } from '../core/errors.js';
import { redact } from '../core/redact.js';
import { type CutoverState, newCutover } from '../core/state.js';
import { LockKey, whoAmI, withAdvisoryLock, withClient } from '../adapters/pg.js';
import { describeHolder, takeLockFile } from '../adapters/lock-file.js';
import { createPointer, type Pointer } from '../adapters/pointer.js';
import { type Progress, silentProgress } from '../adapters/progress.js';
import { fileStateStore, type StateStore } from '../adapters/state-store.js';
import { notifyingStore } from '../adapters/notify.js';
import path from 'node:path';

export interface Clock {
  now(): Date;
}

/** The ports a command uses, each typed by the smallest shape it needs. */
export interface Deps {
  readonly config: Config;
  readonly store: StateStore;
  readonly pointer: Pointer;
  readonly progress: Progress;
  readonly clock: Clock;
  readonly who: string;
}

export const systemClock: Clock = { now: () => new Date() };

/** Reads and validates a config file; a missing or unreadable file is a config error (exit 2). */
export function loadConfig(file: string, env: Readonly<Record<string, string | undefined>> = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigInvalidError(file, [{ path: '', message: code === 'ENOENT' ? 'file not found' : `cannot be read (${code})` }], {
      hint: 'Pass --config <file>, or create bluegreen.config.json (see the README for an example).',
    });
  }
  return parseConfig(text, file, env);
}

export function createDeps(config: Config, progress: Progress = silentProgress): Deps {
  const files = fileStateStore(config.stateDir);
  const store = config.notify
    ? notifyingStore(files, {
        ...config.notify,
        cwd: path.dirname(config.file),
        secrets: config.secrets,
        warn: (text) => progress.info(text),
      })
    : files;
  return { config, store, pointer: createPointer(config), progress, clock: systemClock, who: whoAmI() };
}

/**
 * Options for our own sessions on blue or green: the label for messages and the secrets to redact. The
 * pid comes before user@host: application_name keeps 63 characters, and a long host name must not cut it.
 */
export function conn(deps: Pick<Deps, 'config'>, label: 'blue' | 'green', command = 'controller') {
  return { label, secrets: deps.config.secrets, applicationName: `bluegreen ${command} pid ${process.pid} ${whoAmI()}` };
}

export function newCutoverId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(2).toString('hex')}`;
}

/** The current record, or a fresh idle one (not saved) when there is none. */
export async function loadState(deps: Pick<Deps, 'store' | 'config' | 'clock' | 'who'>): Promise<CutoverState> {
  return (
    (await deps.store.load()) ?? newCutover(newCutoverId(deps.clock.now()), deps.config.mode, deps.clock.now().toISOString(), deps.who)
  );
}

/**
 * Runs a state-changing command holding the controller lock, and writes the audit log before and after.
 * The lock is a file in the state folder (it holds while blue is down, and names its holder whole) plus
 * the advisory lock on blue where blue answers (two controllers with different state folders still meet
 * there). With blue unreachable the file lock alone holds, and the output says so.
 */
export async function controlled<T>(deps: Deps, command: string, fn: () => Promise<T>): Promise<T> {
  const lock = takeLockFile(deps.config.stateDir, command);
  try {
    if (lock.tookOver)
      deps.progress.info(`Took over the controller lock of ${describeHolder(lock.tookOver)}: that process no longer runs.`);
    let connected = false;
    try {
      return await withClient(
        deps.config.blue,
        (blue) => {
          connected = true;
          return withAdvisoryLock(blue, LockKey.controller, 'bluegreen controller', () => audited(deps, command, fn));
        },
        conn(deps, 'blue', command),
      );
    } catch (error) {
      if (connected) throw error;
      // Blue does not answer: the lock file alone keeps a second controller on this state folder out.
      const why = describeError(error).split('\n')[0];
      deps.progress.info(
        `Blue is unreachable (${why}): holding the controller lock file alone (${lock.file}); a controller using another state folder ` +
          `would not be stopped.`,
      );
      return await audited(deps, command, fn, `lock file only: blue unreachable (${why})`);
    }
  } finally {
    lock.release();
  }
}

/** The audit log around a command: started, then how it ended. */
async function audited<T>(deps: Deps, command: string, fn: () => Promise<T>, note?: string): Promise<T> {
  const at = () => deps.clock.now().toISOString();
  const cutover = (await deps.store.load())?.id;
  await deps.store.audit({
    at: at(),
    by: deps.who,
    command,
    cutover,
    outcome: 'started',
    ...(note ? { detail: redact(note, deps.config.secrets) } : {}),
  });
  try {
    const result = await fn();
    // A report that says it failed is audited as failed (or blocked), though nothing was thrown.
    const report = result as { ok?: boolean; error?: { exitCode?: number; message?: string } };
    const outcome = report?.ok === false ? (report.error?.exitCode === ExitCode.blocked ? 'blocked' : 'failed') : 'ok';
    await deps.store.audit({
      at: at(),
      by: deps.who,
      command,
      cutover: (await deps.store.load())?.id ?? cutover,
      outcome,
      detail: outcome === 'ok' ? undefined : redact(report.error?.message ?? '', deps.config.secrets).split('\n')[0],
    });
    return result;
  } catch (error) {
    const blocked = error instanceof BlueGreenError && error.exitCode === ExitCode.blocked;
    await deps.store.audit({
      at: at(),
      by: deps.who,
      command,
      cutover: (await deps.store.load())?.id ?? cutover,
      outcome: blocked ? 'blocked' : 'failed',
      detail: redact(describeError(error), deps.config.secrets),
    });
    throw error;
  }
}

/** Times an async step. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: Math.round(performance.now() - start) };
}
