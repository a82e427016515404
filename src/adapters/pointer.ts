/**
 * The pointer: where applications' connections go. PgBouncer (PAUSE, rewrite `[databases]`, RELOAD,
 * RESUME) or a connection-string file (atomic replace, then a notify command).
 */
import { readFileSync, statSync, chownSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import type { Config, FilePointerConfig, PgbouncerPointerConfig } from '../core/config.js';
import { parseConnString, formatConnString } from '../core/conninfo.js';
import { BlueGreenError, TimeoutError } from '../core/errors.js';
import { readEnvVariable, readTarget, rewriteEnvVariable, rewriteTarget, type Target } from '../core/pgbouncer-ini.js';
import { redact } from '../core/redact.js';
import { writeFileAtomic } from './state-store.js';
import { toBlueGreenError } from './pg.js';

export interface Pointer {
  /** One line for messages: `pgbouncer 127.0.0.1:6432 database app`. */
  readonly description: string;
  /** Whether PAUSE/RESUME mean anything (a file pointer has no pooler to hold writes). */
  readonly canPause: boolean;
  /** Where traffic goes now, read from the source of truth (the ini or the file). */
  current(): Promise<Target>;
  /** Reachability check for preflight: throws a BlueGreenError saying what is wrong. */
  check(): Promise<void>;
  /** Holds new transactions; resolves once in-flight ones have finished, or throws after `timeoutMs` (having resumed). */
  pause(timeoutMs: number): Promise<void>;
  resume(): Promise<void>;
  /** Sends traffic to `target`; keeps every other setting of the entry. */
  flip(target: Target, side: 'blue' | 'green'): Promise<void>;
  /** Opens the connections a flip needs ahead of time (no handshake inside the pause); `close` ends them. */
  open(): Promise<void>;
  close(): Promise<void>;
}

/** The Target a connection string names. */
export function targetOf(url: string): Target {
  const c = parseConnString(url);
  return { host: c.host, port: c.port, database: c.database };
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

function pgbouncerPointer(config: PgbouncerPointerConfig, secrets: ReadonlyArray<string>): Pointer {
  const admin = parseConnString(config.admin);
  const label = 'pgbouncer admin console';
  const connect = async () => {
    const client = new pg.Client({ connectionString: config.admin, connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw toBlueGreenError(error, config.admin, label, secrets);
    }
    return client;
  };
  // The admin console speaks only the simple query protocol: no parameters, so the name is checked instead.
  const db = config.database;
  if (!/^[A-Za-z0-9_.-]+$/.test(db)) {
    throw new BlueGreenError(`pointer.database "${db}" cannot be named on PgBouncer's admin console`, {
      hint: 'Use an alias of letters, digits, _ . - in [databases].',
    });
  }
  // Held open between open() and close(): one for PAUSE (which blocks), one for everything else.
  let held: { pause: pg.Client; control: pg.Client } | undefined;
  const adminCommand = async (sql: string) => {
    const client = held?.control ?? (await connect());
    try {
      return await client.query(sql);
    } catch (error) {
      throw toBlueGreenError(error, config.admin, label, secrets);
    } finally {
      if (!held) await client.end().catch(() => undefined);
    }
  };
  const readIni = () =>
    readPointerFile('pointer.ini', config.ini, 'Point pointer.ini at the pgbouncer.ini PgBouncer reads, readable and writable by the user running bluegreen.');
  return {
    description: `pgbouncer ${admin.host}:${admin.port} database ${db}`,
    canPause: true,
    async current() {
      const target = readTarget(readIni(), db);
      if (!target) throw new BlueGreenError(`pointer.ini: ${config.ini} has no entry "${db}" in [databases]`, { hint: 'Check pointer.database.' });
      return target;
    },
    async check() {
      await this.current();
      const { rows } = await adminCommand('SHOW DATABASES');
      if (!rows.some((r) => r.name === db)) {
        throw new BlueGreenError(`PgBouncer has no database "${db}" loaded`, { hint: 'Run RELOAD on PgBouncer, or check pointer.ini is the file it reads.' });
      }
    },
    async open() {
      if (!held) held = { pause: await connect(), control: await connect() };
    },
    async close() {
      const h = held;
      held = undefined;
      await Promise.all([h?.pause.end().catch(() => undefined), h?.control.end().catch(() => undefined)]);
    },
    async pause(timeoutMs) {
      const client = held?.pause ?? (await connect());
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          client.query(`PAUSE ${db}`),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new TimeoutError(`PgBouncer could not pause "${db}" within ${timeoutMs} ms: a transaction stayed open`, {
              hint: 'Find the long transaction (pg_stat_activity on blue, state "idle in transaction"), end it, and retry.',
            })), timeoutMs);
          }),
        ]);
      } catch (error) {
        // The PAUSE may still be waiting on its connection: that connection is spent, RESUME goes on the other.
        if (held) {
          await held.pause.end().catch(() => undefined);
          held = { ...held, pause: await connect() };
        }
        await adminCommand(`RESUME ${db}`).catch(() => undefined);
        throw toBlueGreenError(error, config.admin, label, secrets);
      } finally {
        clearTimeout(timer);
        if (!held) await client.end().catch(() => undefined);
      }
    },
    async resume() {
      try {
        await adminCommand(`RESUME ${db}`);
      } catch (error) {
        // "database is not paused" means there is nothing to resume: the state we want.
        if (!/not paused/i.test((error as Error).message)) throw error;
      }
    },
    async flip(target) {
      replaceKeepingOwner(config.ini, rewriteTarget(readIni(), db, target));
      await adminCommand('RELOAD');
      const { rows } = await adminCommand('SHOW DATABASES');
      const row = rows.find((r) => r.name === db);
      if (!row || Number(row.port) !== target.port) {
        throw new BlueGreenError(`PgBouncer did not take the new target for "${db}" after RELOAD`, {
          hint: `Check ${config.ini} and PgBouncer's log.`,
        });
      }
    },
  };
}

function filePointer(config: FilePointerConfig, secrets: ReadonlyArray<string>, cwd: string): Pointer {
  const read = () => readPointerFile('pointer.path', config.path, 'Create the file with a line such as DATABASE_URL=postgres://… pointing at blue.');
  const value = () => {
    const v = readEnvVariable(read(), config.variable);
    if (v === undefined) throw new BlueGreenError(`pointer.path: ${config.path} has no ${config.variable}= line`, { hint: `Add ${config.variable}=<blue's connection string>.` });
    return v;
  };
  return {
    description: `file ${config.path} (${config.variable})`,
    canPause: false,
    async current() {
      try {
        return targetOf(value());
      } catch (error) {
        if (error instanceof BlueGreenError) throw error;
        throw new BlueGreenError(`pointer.path: ${config.variable} in ${config.path} ${(error as Error).message}`);
      }
    },
    async check() {
      await this.current();
    },
    async pause() {},
    async resume() {},
    async open() {},
    async close() {},
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
}

export function createPointer(config: Config): Pointer {
  // The notify command runs where the config lives, so relative paths in it mean what the operator wrote.
  return config.pointer.type === 'pgbouncer' ? pgbouncerPointer(config.pointer, config.secrets) : filePointer(config.pointer, config.secrets, path.dirname(config.file));
}

