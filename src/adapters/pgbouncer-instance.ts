/** One PgBouncer instance for the pointer: its admin console (held open through a flip, opened again if cut) and the ini it reads. */
import { chownSync, readFileSync, statSync } from 'node:fs';
import pg from 'pg';
import { BlueGreenError, TimeoutError } from '../core/errors.js';
import { readTarget, rewriteTarget, type Target } from '../core/pgbouncer-ini.js';
import { writeFileAtomic } from './state-store.js';
import { clientConfig, toBlueGreenError } from './pg.js';

export interface PoolMode {
  readonly instance: string;
  /** `transaction`, `session` or `statement`: the database's own pool_mode, else PgBouncer's. */
  readonly mode: string;
  /** Clients connected to this database now (SHOW POOLS' cl_active + cl_waiting). */
  readonly clients: number;
}

/** Reads the file a pointer keeps its target in; a failure names the config key and what to do. */
export function readPointerFile(key: string, file: string, hint: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new BlueGreenError(`${key}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { hint });
  }
}

/** Rewrites a file atomically, keeping its mode and owner (PgBouncer runs as another user and must still read it). */
export function replaceKeepingOwner(file: string, text: string): void {
  const st = statSync(file);
  writeFileAtomic(file, text, st.mode & 0o777);
  if (typeof process.getuid === 'function' && process.getuid() === 0) chownSync(file, st.uid, st.gid);
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long a flip waits for a PgBouncer whose admin connection was cut to listen again. */
const RECONNECT_WAIT_MS = 5_000;

/** One PgBouncer instance: its admin console and the ini it reads. */
export function bouncer(instance: { admin: string; ini: string }, db: string, secrets: ReadonlyArray<string>, name: string, label: string) {
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
  const readIni = () =>
    readPointerFile(
      'pointer.ini',
      instance.ini,
      'Point pointer.ini at the pgbouncer.ini PgBouncer reads, readable and writable by the user running bluegreen.',
    );
  /** Server connections PgBouncer is logging in for this database right now (SHOW POOLS' sv_login). */
  const loggingIn = async () =>
    (await command('SHOW POOLS')).rows.filter((r) => r.database === db).reduce((n, r) => n + Number(r.sv_login ?? 0), 0);
  let pausedAt: number | undefined;
  let pausedMs: number | undefined;
  return {
    name,
    current(): Target {
      const target = readTarget(readIni(), db);
      if (!target)
        throw new BlueGreenError(`pointer.ini: ${instance.ini} has no entry "${db}" in [databases]`, { hint: 'Check pointer.database.' });
      return target;
    },
    async check(): Promise<string[]> {
      this.current();
      const { rows } = await command('SHOW DATABASES');
      if (!rows.some((r) => r.name === db)) {
        throw new BlueGreenError(`${who} has no database "${db}" loaded`, {
          hint: 'Run RELOAD on PgBouncer, or check pointer.ini is the file it reads.',
        });
      }
      const retry = (await command('SHOW CONFIG')).rows.find((r) => r.key === 'server_login_retry')?.value;
      return retry && Number(retry) > 2
        ? [
            `${who}: server_login_retry = ${retry} s: after one failed server login (a wrong password on the new side, ` +
              'or a PAUSE landing while it logs new server connections in) it refuses every client for that long. ' +
              'The flip waits for logins in progress before PAUSE; a lower value (e.g. 2) shortens any such stall.',
          ]
        : [];
    },
    async poolMode(): Promise<PoolMode> {
      const own = (await command('SHOW DATABASES')).rows.find((r) => r.name === db)?.pool_mode;
      const mode = own ? String(own) : String((await command('SHOW CONFIG')).rows.find((r) => r.key === 'pool_mode')?.value ?? 'session');
      const clients = (await command('SHOW POOLS')).rows
        .filter((r) => r.database === db)
        .reduce((n, r) => n + Number(r.cl_active ?? 0) + Number(r.cl_waiting ?? 0), 0);
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
        if (performance.now() > until)
          throw new TimeoutError(`${who} kept logging in server connections for "${db}"; PAUSE was not issued`, {
            hint: 'Retry in a moment.',
          });
        await wait(10);
      }
      const client = held?.pause ?? (await connect());
      let timer: NodeJS.Timeout | undefined;
      pausedAt = performance.now();
      try {
        await Promise.race([
          client.query(`PAUSE ${db}`),
          new Promise((_, reject) => {
            timer = setTimeout(
              () =>
                reject(
                  new TimeoutError(`${who} could not pause "${db}" within ${timeoutMs} ms: a transaction stayed open`, {
                    hint:
                      'Find the long transaction (pg_stat_activity on the serving side, state "idle in transaction"), ' +
                      'end it, and retry.',
                  }),
                ),
              Math.max(1, until - performance.now()),
            );
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
        throw new BlueGreenError(
          `${who} did not take the new target for "${db}" after RELOAD (it shows ${row ? `${row.host}:${row.port}` : 'no entry'})`,
          {
            hint: `Check ${instance.ini} and PgBouncer's log.`,
          },
        );
      }
    },
  };
}
