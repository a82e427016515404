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
import { type Client, LockKey, whoAmI, withAdvisoryLock, withClient } from '../adapters/pg.js';
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
    ? notifyingStore(files, { ...config.notify, cwd: path.dirname(config.file), secrets: config.secrets, warn: (text) => progress.info(text) })
    : files;
  return { config, store, pointer: createPointer(config), progress, clock: systemClock, who: whoAmI() };
}

/** Options for our own sessions on blue or green: the label for messages and the secrets to redact. */
export function conn(deps: Pick<Deps, 'config'>, label: 'blue' | 'green', command = 'controller') {
  return { label, secrets: deps.config.secrets, applicationName: `bluegreen ${command} ${whoAmI()} pid ${process.pid}` };
}

export function newCutoverId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(2).toString('hex')}`;
}

/** The current record, or a fresh idle one (not saved) when there is none. */
export async function loadState(deps: Pick<Deps, 'store' | 'config' | 'clock' | 'who'>): Promise<CutoverState> {
  return (await deps.store.load()) ?? newCutover(newCutoverId(deps.clock.now()), deps.config.mode, deps.clock.now().toISOString(), deps.who);
}

/**
 * Runs a state-changing command holding the controller lock on blue (so a second controller is
 * refused with the holder's name), and writes the audit log before and after.
 */
export async function controlled<T>(deps: Deps, command: string, fn: (blue: Client) => Promise<T>): Promise<T> {
  const at = () => deps.clock.now().toISOString();
  const cutover = (await deps.store.load())?.id;
  return withClient(
    deps.config.blue,
    (blue) =>
      withAdvisoryLock(blue, LockKey.controller, 'bluegreen controller', async () => {
        await deps.store.audit({ at: at(), by: deps.who, command, cutover, outcome: 'started' });
        try {
          const result = await fn(blue);
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
      }),
    conn(deps, 'blue', command),
  );
}

/** Times an async step. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: Math.round(performance.now() - start) };
}
