/**
 * The pointer: where applications' connections go. PgBouncer, one instance or a fleet (paused,
 * rewritten, reloaded and resumed as one; a failure anywhere is undone everywhere), a
 * connection-string file (atomic replace, then a notify command), or a command (DNS, Consul,
 * Kubernetes, HAProxy...).
 */
import path from 'node:path';
import { execa } from 'execa';
import { runShell } from './shell.js';
import type { CommandPointerConfig, Config, FilePointerConfig, PgbouncerPointerConfig } from '../core/config.js';
import { parseConnString, formatConnString } from '../core/conninfo.js';
import { BlueGreenError, TimeoutError } from '../core/errors.js';
import { readEnvVariable, rewriteEnvVariable, sameTargetAs, type Target } from '../core/pgbouncer-ini.js';
import { redact } from '../core/redact.js';
import { bouncer, type PoolMode, readPointerFile, replaceKeepingOwner } from './pgbouncer-instance.js';

export type { PoolMode } from './pgbouncer-instance.js';

/** What one pooler instance (or the pointer as a whole) says about where traffic goes. */
export interface InstanceTarget {
  readonly instance: string;
  readonly target?: Target;
  readonly error?: string;
}

export interface Pointer {
  /** One line for messages: `pgbouncer 127.0.0.1:6432 database app`, or the fleet. */
  readonly description: string;
  /** Whether PAUSE/RESUME mean anything (a file or command pointer has no pooler to hold writes). */
  readonly canPause: boolean;
  /** Where traffic goes now, read from the source of truth; throws when instances disagree. */
  current(): Promise<Target>;
  /** Each instance's own answer (one entry for a pointer without instances). */
  currentAll(): Promise<InstanceTarget[]>;
  /** Reachability check for preflight: throws a BlueGreenError saying what is wrong. Returns warnings. */
  check(): Promise<string[]>;
  /** Holds new transactions; resolves once in-flight ones have finished, or throws after `timeoutMs` (having resumed). */
  pause(timeoutMs: number): Promise<void>;
  resume(): Promise<void>;
  /** Per instance, from its PAUSE to its RESUME, for the last pause. */
  lastPauses(): ReadonlyArray<{ readonly instance: string; readonly ms: number }>;
  /** Sends traffic to `target`; keeps every other setting of the entry. */
  flip(target: Target, side: 'blue' | 'green'): Promise<void>;
  /** After RESUME: the pooler itself (SHOW DATABASES, on every instance) routes to `target`. */
  confirm(target: Target): Promise<void>;
  /** How each pooler instance pools the database, and how many clients it holds connected (none for a pointer without a pooler). */
  poolModes(): Promise<ReadonlyArray<PoolMode>>;
  /** Opens the connections a flip needs ahead of time (no handshake inside the pause); `close` ends them. */
  open(): Promise<void>;
  close(): Promise<void>;
  /**
   * Since `open`: each instance whose held admin connection was cut (PgBouncer killed, restarted, or the
   * network between) and opened again. A restarted PgBouncer is not paused and cut its clients' connections.
   */
  reconnected(): ReadonlyArray<string>;
}

/** The Target a connection string names. */
export function targetOf(url: string): Target {
  const c = parseConnString(url);
  return { host: c.host, port: c.port, database: c.database };
}

/** Where the pointer sends traffic for a side: the pooler address when the config gives one. */
export function sideTarget(config: Pick<Config, 'addresses'>, side: 'blue' | 'green'): Target {
  return config.addresses[side].pooler;
}

/**
 * The one answer to "which side does this target send traffic to": blue, green, or neither. Hosts
 * compare as libpq would reach them (localhost, ::1 and 127.0.0.1 are one), then port and database.
 */
export function sideServedBy(config: Pick<Config, 'addresses'>, target: Target): 'blue' | 'green' | undefined {
  if (sameTargetAs(target, sideTarget(config, 'blue'))) return 'blue';
  if (sameTargetAs(target, sideTarget(config, 'green'))) return 'green';
  return undefined;
}

/** Runs `fn` on every instance at once; throws (after all have finished) naming each that failed. */
async function onAll<T>(instances: ReadonlyArray<{ name: string }>, what: string, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results = await Promise.allSettled(instances.map((_, i) => fn(i)));
  const failed = results.flatMap((r, i) =>
    r.status === 'rejected' ? [`${instances[i].name}: ${(r.reason as Error).message.split('\n')[0]}`] : [],
  );
  if (failed.length) {
    const first = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    if (instances.length === 1) throw first.reason;
    throw new BlueGreenError(`${what} failed on ${failed.length} of ${instances.length} PgBouncer instances: ${failed.join('; ')}`, {
      hint: (first.reason as BlueGreenError).hint,
      cause: first.reason,
    });
  }
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

function pgbouncerPointer(config: PgbouncerPointerConfig, secrets: ReadonlyArray<string>): Pointer {
  // The admin console speaks only the simple query protocol: no parameters, so the name is checked instead.
  const db = config.database;
  if (!/^[A-Za-z0-9_.-]+$/.test(db)) {
    throw new BlueGreenError(`pointer.database "${db}" cannot be named on PgBouncer's admin console`, {
      hint: 'Use an alias of letters, digits, _ . - in [databases].',
    });
  }
  const fleet = config.instances.map((instance) => {
    const c = parseConnString(instance.admin);
    return bouncer(
      instance,
      db,
      secrets,
      `${c.host}:${c.port}`,
      config.instances.length === 1 ? 'pgbouncer admin console' : `pgbouncer ${c.host}:${c.port}`,
    );
  });
  const describe =
    fleet.length === 1
      ? `pgbouncer ${fleet[0].name} database ${db}`
      : `${fleet.length} pgbouncers (${fleet.map((b) => b.name).join(', ')}) database ${db}`;
  return {
    description: describe,
    canPause: true,
    async currentAll() {
      return fleet.map((b) => {
        try {
          return { instance: b.name, target: b.current() };
        } catch (error) {
          return { instance: b.name, error: (error as Error).message.split('\n')[0] };
        }
      });
    },
    async current() {
      const all = await this.currentAll();
      const broken = all.find((a) => a.error);
      if (broken) throw new BlueGreenError(`${broken.instance}: ${broken.error}`);
      const first = all[0].target!;
      if (all.some((a) => !sameTargetAs(a.target!, first))) {
        throw new BlueGreenError(
          `the PgBouncer instances disagree: ` +
            all.map((a) => `${a.instance} → ${a.target!.host}:${a.target!.port}/${a.target!.database}`).join(', '),
          {
            hint: '`bluegreen resume` points them all at the side the record says serves.',
          },
        );
      }
      return first;
    },
    async check() {
      return (await onAll(fleet, 'the check', (i) => fleet[i].check())).flat();
    },
    async poolModes() {
      return onAll(fleet, 'reading the pool mode', (i) => fleet[i].poolMode());
    },
    async open() {
      await onAll(fleet, 'opening the admin connections', (i) => fleet[i].open());
    },
    async close() {
      await Promise.all(fleet.map((b) => b.close()));
    },
    async pause(timeoutMs) {
      try {
        await onAll(fleet, 'PAUSE', (i) => fleet[i].pause(timeoutMs));
      } catch (error) {
        // Those that paused are resumed: no instance is left holding its clients.
        await Promise.all(fleet.map((b) => b.resume().catch(() => undefined)));
        throw error;
      }
    },
    async resume() {
      await onAll(fleet, 'RESUME', (i) => fleet[i].resume());
    },
    lastPauses() {
      return fleet.flatMap((b) => (b.pausedMs() === undefined ? [] : [{ instance: b.name, ms: b.pausedMs()! }]));
    },
    async flip(target) {
      // All or none: the caller's undo flips every instance back (a no-op where nothing changed).
      await onAll(fleet, 'the flip', (i) => fleet[i].flip(target));
    },
    async confirm(target) {
      await onAll(fleet, 'the check after RESUME', (i) => fleet[i].confirm(target));
    },
    reconnected: () => fleet.filter((b) => b.reconnected()).map((b) => b.name),
  };
}

/**
 * What a pointer without a pooler shares: nothing to pause, resume or hold open, one answer for
 * "every instance", and a check that is just reading where traffic goes.
 */
function withoutPooler(
  description: string,
  current: () => Promise<Target>,
): Pick<
  Pointer,
  'description' | 'canPause' | 'currentAll' | 'check' | 'poolModes' | 'pause' | 'resume' | 'lastPauses' | 'open' | 'close' | 'reconnected'
> {
  return {
    description,
    canPause: false,
    currentAll: async () => [{ instance: description, target: await current() }],
    check: async () => {
      await current();
      return [];
    },
    poolModes: async () => [],
    pause: async () => undefined,
    resume: async () => undefined,
    lastPauses: () => [],
    open: async () => undefined,
    close: async () => undefined,
    reconnected: () => [],
  };
}

function filePointer(config: FilePointerConfig, secrets: ReadonlyArray<string>, cwd: string): Pointer {
  const read = () =>
    readPointerFile('pointer.path', config.path, 'Create the file with a line such as DATABASE_URL=postgres://… pointing at blue.');
  const value = () => {
    const v = readEnvVariable(read(), config.variable);
    if (v === undefined)
      throw new BlueGreenError(`pointer.path: ${config.path} has no ${config.variable}= line`, {
        hint: `Add ${config.variable}=<blue's connection string>.`,
      });
    return v;
  };
  const current = async () => {
    try {
      return targetOf(value());
    } catch (error) {
      if (error instanceof BlueGreenError) throw error;
      throw new BlueGreenError(`pointer.path: ${config.variable} in ${config.path} ${(error as Error).message}`);
    }
  };
  const pointer: Pointer = {
    ...withoutPooler(`file ${config.path} (${config.variable})`, current),
    current,
    async confirm() {},
    async flip(target, side) {
      const url = formatConnString({ ...parseConnString(value()), host: target.host, port: target.port, database: target.database });
      replaceKeepingOwner(config.path, rewriteEnvVariable(read(), config.variable, url));
      if (config.notify) {
        const result = await execa(config.notify, {
          shell: true,
          reject: false,
          all: true,
          cwd,
          env: { BLUEGREEN_SERVING: side, BLUEGREEN_POINTER_FILE: config.path },
        });
        if (result.exitCode !== 0) {
          throw new BlueGreenError(
            `pointer.notify failed (exit ${result.exitCode}): ${redact(String(result.all ?? ''), secrets).slice(-500)}`,
            {
              hint: 'The file was rewritten; the notify command is what tells applications to reconnect.',
            },
          );
        }
      }
    },
  };
  return pointer;
}

/** `host:port/database`, as a command pointer's `current` prints it. */
export function parseTargetLine(line: string): Target | undefined {
  const m = /^\[?([^\]\s/]+?)\]?:(\d{1,5})\/(\S+)$/.exec(line.trim());
  return m ? { host: m[1], port: Number(m[2]), database: m[3] } : undefined;
}

function commandPointer(config: CommandPointerConfig, secrets: ReadonlyArray<string>, cwd: string): Pointer {
  const run = async (which: 'current' | 'flip', env: Record<string, string> = {}) => {
    const result = await runShell(config[which], { cwd, timeoutMs: config.timeoutMs, env });
    const output = redact(String(result.all ?? ''), secrets);
    if (result.timedOut)
      throw new TimeoutError(`pointer.${which} did not finish within ${config.timeoutMs} ms`, {
        hint: `Raise pointer.timeoutMs, or make \`${which}\` faster.`,
      });
    if (result.exitCode !== 0) {
      throw new BlueGreenError(`pointer.${which} failed (exit ${result.exitCode}): ${output.trim().split('\n').slice(-10).join('\n  ')}`, {
        hint:
          which === 'flip'
            ? 'Traffic may or may not have moved: the flip is undone by calling it again with the old side.'
            : 'It must print one line: host:port/database.',
      });
    }
    return { stdout: redact(String(result.stdout ?? ''), secrets) };
  };
  const current = async () => {
    const { stdout } = await run('current');
    const line = stdout.trim().split('\n').filter(Boolean).at(-1) ?? '';
    const target = parseTargetLine(line);
    if (!target)
      throw new BlueGreenError(`pointer.current printed "${line.slice(0, 200)}", not host:port/database`, {
        hint: 'Make it print one line such as 10.0.0.5:6432/app.',
      });
    return target;
  };
  const pointer: Pointer = {
    ...withoutPooler(`command pointer (${redact(config.current, secrets)})`, current),
    current,
    async confirm(target) {
      const now = await pointer.current();
      if (!sameTargetAs(now, target))
        throw new BlueGreenError(
          `pointer.current says ${now.host}:${now.port}/${now.database} after the flip, ` +
            `not ${target.host}:${target.port}/${target.database}`,
          { hint: 'The flip command exited 0 before traffic moved: make it wait until it has.' },
        );
    },
    async flip(target, side) {
      await run('flip', {
        BLUEGREEN_TARGET: side,
        BLUEGREEN_TARGET_HOST: target.host,
        BLUEGREEN_TARGET_PORT: String(target.port),
        BLUEGREEN_TARGET_DATABASE: target.database,
      });
    },
  };
  return pointer;
}

export function createPointer(config: Config): Pointer {
  // Commands run where the config lives, so relative paths in them mean what the operator wrote.
  const cwd = path.dirname(config.file);
  switch (config.pointer.type) {
    case 'pgbouncer':
      return pgbouncerPointer(config.pointer, config.secrets);
    case 'file':
      return filePointer(config.pointer, config.secrets, cwd);
    case 'command':
      return commandPointer(config.pointer, config.secrets, cwd);
  }
}
