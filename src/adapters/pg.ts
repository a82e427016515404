/**
 * PostgreSQL access through scoped resources: a client lives for one callback and is released in
 * `finally`. No module-level pools. Errors keep PostgreSQL's own code, detail, hint and position.
 */
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parse as parseIntoConfig } from 'pg-connection-string';
import { type ConnInfo, describeConn, parseConnString, passwordFromPassfile } from '../core/conninfo.js';
import { BlueGreenError, LockHeldError, SqlError } from '../core/errors.js';
import { redact } from '../core/redact.js';
import { majorOf } from '../core/versions.js';

export type Client = pg.ClientBase;

/** Which side a connection is for, in messages. */
export type Side = 'blue' | 'green' | 'pgbouncer';

export interface ConnectOptions {
  readonly label?: string;
  /** What pg_stat_activity shows for our sessions: lets the freeze spare them and a second controller name us. */
  readonly applicationName?: string;
  readonly connectTimeoutMs?: number;
  readonly secrets?: ReadonlyArray<string>;
}

export const APPLICATION_NAME = 'bluegreen';

/** Startup options of every session of ours (and PGOPTIONS of the tools we run). */
export const OWN_SESSION_OPTIONS = '-c bluegreen.allow_writes=on';

/** `who` recorded in state and audit: the OS user and host running the controller. */
export function whoAmI(): string {
  return `${os.userInfo().username}@${os.hostname()}`;
}

/** Turns a node-postgres error into ours, keeping PostgreSQL's fields; connection failures get a hint. */
export function toBlueGreenError(error: unknown, url: string, label: string, secrets: ReadonlyArray<string> = []): BlueGreenError {
  if (error instanceof BlueGreenError) return error;
  const e = error as NodeJS.ErrnoException & Partial<pg.DatabaseError>;
  const where = `${label} (${describeConn(url)})`;
  const clean = (s: string) => redact(s, secrets);
  switch (e.code) {
    case 'ECONNREFUSED':
      return new BlueGreenError(`cannot connect to ${where}: connection refused`, {
        hint: 'Is the server running, and are host and port right?',
        cause: error,
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new BlueGreenError(`cannot connect to ${where}: host not found`, { hint: 'Check the host name in the config.', cause: error });
    case 'ETIMEDOUT':
      return new BlueGreenError(`cannot connect to ${where}: timed out`, {
        hint: 'Check the host, the port and any firewall in between.',
        cause: error,
      });
    case '28P01':
    case '28000':
      return new BlueGreenError(`cannot connect to ${where}: authentication failed for user "${parseConnString(url).user}"`, {
        hint: 'Check the user and password (set through ${ENV_VAR} in the config) and pg_hba.conf.',
        cause: error,
      });
    case '3D000':
      return new BlueGreenError(`cannot connect to ${where}: ${clean(e.message)}`, {
        hint: 'Check the database name in the config.',
        cause: error,
      });
  }
  if (e.message && /timeout expired|Connection terminated due to connection timeout/i.test(e.message)) {
    return new BlueGreenError(`cannot connect to ${where}: timed out`, {
      hint: 'Check the host, the port and any firewall in between.',
      cause: error,
    });
  }
  if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
    const sql = new SqlError(
      `${label}: ${clean(e.message ?? 'query failed')} (SQLSTATE ${e.code})${e.detail ? `\n  detail: ${clean(e.detail)}` : ''}`,
      {
        hint: e.hint ? clean(e.hint) : undefined,
        cause: error,
      },
    );
    Object.assign(sql, { sqlState: e.code, detail: e.detail, position: e.position ? Number(e.position) : undefined });
    return sql;
  }
  return new BlueGreenError(`${where}: ${clean(e.message ?? String(error))}`, { cause: error });
}

/** Where libpq would look for a password file for this connection. */
function passfilePath(info: ConnInfo): string {
  return info.params.passfile ?? process.env.PGPASSFILE ?? path.join(os.homedir(), '.pgpass');
}

/**
 * node-postgres settings for a connection string, read as libpq reads it: pg-connection-string with
 * libpq's sslmode meanings (require does not check the certificate, verify-full does), certificates
 * and keys from their files, sslpassword for an encrypted key, and the password from the passfile
 * (PGPASSFILE, passfile=, ~/.pgpass; ignored unless 0600, like libpq) when the string has none.
 */
export async function clientConfig(url: string, extraOptions?: string): Promise<pg.ClientConfig> {
  const info = parseConnString(url);
  let parsed: ReturnType<typeof parseIntoConfig>;
  try {
    parsed = parseIntoConfig(url, { useLibpqCompat: true });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? `a certificate or key file does not exist (${e.path})` : e.message;
    throw new BlueGreenError(`cannot use the connection string for ${describeConn(url)}: ${why}`, {
      hint: 'Check sslrootcert, sslcert and sslkey in the connection string.',
    });
  }
  const {
    sslmode: _m,
    sslrootcert: _r,
    sslcert: _c,
    sslkey: _k,
    sslcrl: _l,
    sslpassword,
    passfile: _p,
    options,
    target_session_attrs: _t,
    connect_timeout,
    uselibpqcompat: _u,
    ...rest
  } = parsed as Record<string, unknown>;
  const config: pg.ClientConfig = { ...(rest as pg.ClientConfig) };
  if (config.ssl && typeof config.ssl === 'object' && typeof sslpassword === 'string')
    config.ssl = { ...config.ssl, passphrase: sslpassword };
  if (connect_timeout) config.connectionTimeoutMillis = Number(connect_timeout) * 1000;
  const allOptions = [options as string | undefined, extraOptions].filter(Boolean).join(' ');
  if (allOptions) config.options = allOptions;
  if (info.password === undefined) {
    const file = passfilePath(info);
    try {
      const st = statSync(file);
      if ((st.mode & 0o077) === 0) {
        const password = passwordFromPassfile(readFileSync(file, 'utf8'), info);
        if (password !== undefined) config.password = password;
      }
    } catch {
      // No passfile: libpq goes on without a password too.
    }
  }
  return config;
}

/** Opens a client for the callback's duration; errors come out as BlueGreenError. */
export async function withClient<T>(url: string, fn: (client: Client) => Promise<T>, options: ConnectOptions = {}): Promise<T> {
  const label = options.label ?? 'database';
  // Our sessions pass the write guard (it honours this only for superusers): see adapters/write-guard.ts.
  const config = await clientConfig(url, OWN_SESSION_OPTIONS).catch((error: unknown) => {
    throw toBlueGreenError(error, url, label, options.secrets);
  });
  const client = new pg.Client({
    ...config,
    application_name: (options.applicationName ?? APPLICATION_NAME).slice(0, 63),
    connectionTimeoutMillis: options.connectTimeoutMs ?? config.connectionTimeoutMillis ?? 10_000,
  });
  // An idle client whose server goes away emits 'error'; without a listener that would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw toBlueGreenError(error, url, label, options.secrets);
  }
  try {
    return await fn(client);
  } catch (error) {
    throw toBlueGreenError(error, url, label, options.secrets);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** BEGIN … COMMIT around the callback, ROLLBACK on any error. */
export async function withTransaction<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Keys for pg_try_advisory_lock(int, int): one namespace for the tool, one key per purpose. */
export const LOCK_NAMESPACE = 0x62677270; // "bgrp"
export const LockKey = { controller: 1, migrations: 2 } as const;

/**
 * Holds a session advisory lock for the callback. When another session holds it, says who
 * (its application_name names the command, user, host and pid).
 */
export async function withAdvisoryLock<T>(client: Client, key: number, what: string, fn: () => Promise<T>): Promise<T> {
  const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [LOCK_NAMESPACE, key]);
  if (!rows[0].ok) {
    const holder = await client.query<{ application_name: string; usename: string; client_addr: string | null; since: string }>(
      `SELECT a.application_name, a.usename, host(a.client_addr) AS client_addr,
              to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ') AS since
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2 AND l.granted`,
      [LOCK_NAMESPACE, key],
    );
    const h = holder.rows[0];
    const who = h
      ? `${h.application_name || '(no application_name)'} as ${h.usename} from ${h.client_addr ?? 'local socket'} since ${h.since}`
      : 'another session';
    throw new LockHeldError(`another ${what} is running: ${who}`, {
      hint: 'Wait for it to finish, or stop it. Two controllers must never act on one cutover at once.',
    });
  }
  try {
    return await fn();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, key]).catch(() => undefined);
  }
}

/** One row, typed, or undefined. */
export async function queryOne<T extends pg.QueryResultRow>(client: Client, sql: string, params: unknown[] = []): Promise<T | undefined> {
  const { rows } = await client.query<T>(sql, params);
  return rows[0];
}

/** The server's version as it prints it (`17.10`, `15.18 (Debian 15.18-0+deb12u1)`). */
export async function serverVersion(client: Client): Promise<string> {
  return (await queryOne<{ v: string }>(client, `SELECT current_setting('server_version') AS v`))!.v;
}

/** The server's major version (150012 → 15). */
export async function serverMajor(client: Client): Promise<number> {
  const row = await queryOne<{ v: string }>(client, `SELECT current_setting('server_version_num') AS v`);
  return majorOf(row?.v ?? NaN);
}

/** Cancels whatever `client` is running, from a separate session (a query left running would block every later one on it). */
export async function cancelRunningQuery(url: string, client: Client, secrets: ReadonlyArray<string> = []): Promise<void> {
  const pid = (client as unknown as { processID?: number }).processID;
  if (!pid) return;
  await withClient(url, (side) => side.query('SELECT pg_cancel_backend($1)', [pid]), {
    label: 'cancel',
    secrets,
    connectTimeoutMs: 3000,
  }).catch(() => undefined);
}
