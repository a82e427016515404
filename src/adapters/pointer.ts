/**
 * The pointer: where applications' connections go. PgBouncer, one instance or a fleet (paused,
 * rewritten, reloaded and resumed as one; a failure anywhere is undone everywhere), a
 * connection-string file (atomic replace, then a notify command), or a command (DNS, Consul,
 * Kubernetes, HAProxy...).
 */
import { readFileSync, statSync, chownSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { runShell } from './shell.js';
import pg from 'pg';
import type { CommandPointerConfig, Config, FilePointerConfig, PgbouncerPointerConfig } from '../core/config.js';
import { parseConnString, formatConnString } from '../core/conninfo.js';
import { BlueGreenError, TimeoutError } from '../core/errors.js';
import { readEnvVariable, readTarget, rewriteEnvVariable, rewriteTarget, sameTargetAs, type Target } from '../core/pgbouncer-ini.js';
import { redact } from '../core/redact.js';
import { writeFileAtomic } from './state-store.js';
import { clientConfig, toBlueGreenError } from './pg.js';

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

export interface PoolMode {
  readonly instance: string;
  /** `transaction`, `session` or `statement`: the database's own pool_mode, else PgBouncer's. */
  readonly mode: string;
  /** Clients connected to this database now (SHOW POOLS' cl_active + cl_waiting). */
  readonly clients: number;
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

/** Reads the file a pointer keeps its target in; a failure names the config key and what to do. */
function readPointerFile(key: string, file: string, hint: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new BlueGreenError(`${key}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { hint });
  }
}

/** Rewrites a file atomically, keeping its mode and owner (PgBouncer runs as another user and must still read it). */
function replaceKeepingOwner(file: string, text: string): void {
  const st = statSync(file);
  writeFileAtomic(file, text, st.mode & 0o777);
  if (typeof process.getuid === 'function' && process.getuid() === 0) chownSync(file, st.uid, st.gid);
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long a flip waits for a PgBouncer whose admin connection was cut to listen again. */
const RECONNECT_WAIT_MS = 5_000;

/** One PgBouncer instance: its admin console and the ini it reads. */
function bouncer(instance: { admin: string; ini: string }, db: string, secrets: ReadonlyArray<string>, name: string, label: string) {
  // In messages: a lone instance is just PgBouncer; in a fleet, each says which it is.
  const who = label === 'pgbouncer admin console' ? 'PgBouncer' : `PgBouncer ${name}`;
  // Held connections cut under us (a PgBouncer restarted mid-flip): the next command opens a new one.
  const cut = new WeakSet<pg.Client>();
  const connect = async () => {
    const client = new pg.Client({ ...(await clientConfig(instance.admin)), connectionTimeoutMillis: 5000 });
    client.on('error', () => void cut.add(client));
    client.on('end', () => void cut.add(client));
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw toBlueGreenError(error, instance.admin, label, secrets);
    }
    return client;
  };
  // Held open between open() and close(): one for PAUSE (which blocks), one for everything else.
  let held: { pause: pg.Client; control: pg.Client } | undefined;
  let reconnects = 0;
  /** The held control connection, opened again if it was cut: every admin command we send may be sent twice. */
  const control = async () => {
    if (held && cut.has(held.control)) {
      // A PgBouncer being restarted (a supervisor, systemd) listens again within moments: worth a short wait.
      const until = performance.now() + RECONNECT_WAIT_MS;
      for (;;) {
        try {
          held = { ...held, control: await connect() };
          break;
        } catch (error) {
          if (performance.now() > until) throw error;
          await wait(100);
        }
      }
      reconnects++;
    }
    return held?.control;
  };
  const command = async (sql: string): Promise<pg.QueryResult> => {
    const client = (await control()) ?? (await connect());
    try {
      return await client.query(sql);
    } catch (error) {
      // Cut while the command was on its way (PgBouncer killed): once more on a new connection.
      if (held && cut.has(client) && client === held.control) return command(sql);
      throw toBlueGreenError(error, instance.admin, label, secrets);
    } finally {
      if (!held) await client.end().catch(() => undefined);
    }
  };
  const readIni = () => readPointerFile('pointer.ini', instance.ini, 'Point pointer.ini at the pgbouncer.ini PgBouncer reads, readable and writable by the user running bluegreen.');
  /** Server connections PgBouncer is logging in for this database right now (SHOW POOLS' sv_login). */
  const loggingIn = async () => (await command('SHOW POOLS')).rows.filter((r) => r.database === db).reduce((n, r) => n + Number(r.sv_login ?? 0), 0);
  let pausedAt: number | undefined;
  let pausedMs: number | undefined;
  return {
    name,
    current(): Target {
      const target = readTarget(readIni(), db);
      if (!target) throw new BlueGreenError(`pointer.ini: ${instance.ini} has no entry "${db}" in [databases]`, { hint: 'Check pointer.database.' });
      return target;
    },
    async check(): Promise<string[]> {
      this.current();
      const { rows } = await command('SHOW DATABASES');
      if (!rows.some((r) => r.name === db)) {
        throw new BlueGreenError(`${who} has no database "${db}" loaded`, { hint: 'Run RELOAD on PgBouncer, or check pointer.ini is the file it reads.' });
      }
      const retry = (await command('SHOW CONFIG')).rows.find((r) => r.key === 'server_login_retry')?.value;
      return retry && Number(retry) > 2
        ? [`${who}: server_login_retry = ${retry} s: after one failed server login (a wrong password on the new side, or a PAUSE landing while it logs new server connections in) it refuses every client for that long. The flip waits for logins in progress before PAUSE; a lower value (e.g. 2) shortens any such stall.`]
        : [];
    },
    async poolMode(): Promise<PoolMode> {
      const own = (await command('SHOW DATABASES')).rows.find((r) => r.name === db)?.pool_mode;
      const mode = own ? String(own) : String((await command('SHOW CONFIG')).rows.find((r) => r.key === 'pool_mode')?.value ?? 'session');
      const clients = (await command('SHOW POOLS')).rows.filter((r) => r.database === db).reduce((n, r) => n + Number(r.cl_active ?? 0) + Number(r.cl_waiting ?? 0), 0);
      return { instance: name, mode, clients };
    },
    async open() {
      if (!held) held = { pause: await connect(), control: await connect() };
      reconnects = 0;
    },
    /** Whether the held admin connection was cut since `open` and opened again. */
    reconnected: () => reconnects > 0 || (!!held && cut.has(held.pause)),
    async close() {
      const h = held;
      held = undefined;
      await Promise.all([h?.pause.end().catch(() => undefined), h?.control.end().catch(() => undefined)]);
    },
    async pause(timeoutMs: number) {
      const until = performance.now() + timeoutMs;
      // A PAUSE landing while PgBouncer logs server connections in counts as a failed login (server_login_retry).
      while ((await loggingIn()) > 0) {
        if (performance.now() > until) throw new TimeoutError(`${who} kept logging in server connections for "${db}"; PAUSE was not issued`, { hint: 'Retry in a moment.' });
        await wait(10);
      }
      const client = held?.pause ?? (await connect());
      let timer: NodeJS.Timeout | undefined;
      pausedAt = performance.now();
      try {
        await Promise.race([
          client.query(`PAUSE ${db}`),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new TimeoutError(`${who} could not pause "${db}" within ${timeoutMs} ms: a transaction stayed open`, {
              hint: 'Find the long transaction (pg_stat_activity on the serving side, state "idle in transaction"), end it, and retry.',
            })), Math.max(1, until - performance.now()));
          }),
        ]);
      } catch (error) {
        // The PAUSE may still be waiting on its connection: that connection is spent, RESUME goes on the other.
        if (held) {
          await held.pause.end().catch(() => undefined);
          held = { ...held, pause: await connect() };
        }
        await command(`RESUME ${db}`).catch(() => undefined);
        throw toBlueGreenError(error, instance.admin, label, secrets);
      } finally {
        clearTimeout(timer);
        if (!held) await client.end().catch(() => undefined);
      }
    },
    async resume() {
      try {
        await command(`RESUME ${db}`);
      } catch (error) {
        // "database is not paused" means there is nothing to resume: the state we want.
        if (!/not paused/i.test((error as Error).message)) throw error;
      }
      if (pausedAt !== undefined) pausedMs = Math.round(performance.now() - pausedAt);
      pausedAt = undefined;
    },
    pausedMs: () => pausedMs,
    async flip(target: Target) {
      replaceKeepingOwner(instance.ini, rewriteTarget(readIni(), db, target));
      await command('RELOAD');
      await this.confirm(target);
    },
    /** SHOW DATABASES says the entry points at `target`. */
    async confirm(target: Target) {
      const { rows } = await command('SHOW DATABASES');
      const row = rows.find((r) => r.name === db);
      if (!row || Number(row.port) !== target.port || (row.host && row.host !== target.host)) {
        throw new BlueGreenError(`${who} did not take the new target for "${db}" after RELOAD (it shows ${row ? `${row.host}:${row.port}` : 'no entry'})`, {
          hint: `Check ${instance.ini} and PgBouncer's log.`,
        });
      }
    },
  };
}

/** Runs `fn` on every instance at once; throws (after all have finished) naming each that failed. */
async function onAll<T>(instances: ReadonlyArray<{ name: string }>, what: string, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results = await Promise.allSettled(instances.map((_, i) => fn(i)));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${instances[i].name}: ${(r.reason as Error).message.split('\n')[0]}`] : []));
  if (failed.length) {
    const first = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    if (instances.length === 1) throw first.reason;
    throw new BlueGreenError(`${what} failed on ${failed.length} of ${instances.length} PgBouncer instances: ${failed.join('; ')}`, { hint: (first.reason as BlueGreenError).hint, cause: first.reason });
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
    return bouncer(instance, db, secrets, `${c.host}:${c.port}`, config.instances.length === 1 ? 'pgbouncer admin console' : `pgbouncer ${c.host}:${c.port}`);
  });
  const describe = fleet.length === 1 ? `pgbouncer ${fleet[0].name} database ${db}` : `${fleet.length} pgbouncers (${fleet.map((b) => b.name).join(', ')}) database ${db}`;
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
        throw new BlueGreenError(`the PgBouncer instances disagree: ${all.map((a) => `${a.instance} → ${a.target!.host}:${a.target!.port}/${a.target!.database}`).join(', ')}`, {
          hint: '`bluegreen resume` points them all at the side the record says serves.',
        });
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
function withoutPooler(description: string, current: () => Promise<Target>): Pick<Pointer, 'description' | 'canPause' | 'currentAll' | 'check' | 'poolModes' | 'pause' | 'resume' | 'lastPauses' | 'open' | 'close' | 'reconnected'> {
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
  const read = () => readPointerFile('pointer.path', config.path, 'Create the file with a line such as DATABASE_URL=postgres://… pointing at blue.');
  const value = () => {
    const v = readEnvVariable(read(), config.variable);
    if (v === undefined) throw new BlueGreenError(`pointer.path: ${config.path} has no ${config.variable}= line`, { hint: `Add ${config.variable}=<blue's connection string>.` });
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
          throw new BlueGreenError(`pointer.notify failed (exit ${result.exitCode}): ${redact(String(result.all ?? ''), secrets).slice(-500)}`, {
            hint: 'The file was rewritten; the notify command is what tells applications to reconnect.',
          });
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
    if (result.timedOut) throw new TimeoutError(`pointer.${which} did not finish within ${config.timeoutMs} ms`, { hint: `Raise pointer.timeoutMs, or make \`${which}\` faster.` });
    if (result.exitCode !== 0) {
      throw new BlueGreenError(`pointer.${which} failed (exit ${result.exitCode}): ${output.trim().split('\n').slice(-10).join('\n  ')}`, {
        hint: which === 'flip' ? 'Traffic may or may not have moved: the flip is undone by calling it again with the old side.' : 'It must print one line: host:port/database.',
      });
    }
    return { stdout: redact(String(result.stdout ?? ''), secrets) };
  };
  const current = async () => {
    const { stdout } = await run('current');
    const line = stdout.trim().split('\n').filter(Boolean).at(-1) ?? '';
    const target = parseTargetLine(line);
    if (!target) throw new BlueGreenError(`pointer.current printed "${line.slice(0, 200)}", not host:port/database`, { hint: 'Make it print one line such as 10.0.0.5:6432/app.' });
    return target;
  };
  const pointer: Pointer = {
    ...withoutPooler(`command pointer (${redact(config.current, secrets)})`, current),
    current,
    async confirm(target) {
      const now = await pointer.current();
      if (!sameTargetAs(now, target)) throw new BlueGreenError(`pointer.current says ${now.host}:${now.port}/${now.database} after the flip, not ${target.host}:${target.port}/${target.database}`, { hint: 'The flip command exited 0 before traffic moved: make it wait until it has.' });
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
