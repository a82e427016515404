/**
 * The heartbeat that makes a drain exact: a one-row table both sides keep, whose token the flip bumps on
 * the side it leaves; once the subscriber shows that token, it has applied everything committed before.
 */
import { TimeoutError } from '../core/errors.js';
import { type Client, queryOne } from './pg.js';

export const HEARTBEAT_TABLE = 'bluegreen.heartbeat';

export const HEARTBEAT_CHANNEL = 'bluegreen_heartbeat';

/** A drain (`what`) that ran out of time before the subscriber showed the token. */
function notAppliedInTime(what: string): TimeoutError {
  return new TimeoutError(`${what} did not finish in time: the subscriber has not applied the last transactions yet`, {
    hint:
      'Something holds replication (a lock on the subscriber, a long transaction, a stopped apply worker): ' +
      '`bluegreen status` shows the lag.',
  });
}

/**
 * The table both sides keep for the drain: one row whose token the flip bumps on the side it leaves,
 * and a trigger that fires even for the apply worker (ENABLE ALWAYS) and announces each token applied
 * on a channel, so the drain is told rather than polling across the network.
 */
export async function ensureHeartbeat(client: Client): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS bluegreen;
    CREATE TABLE IF NOT EXISTS ${HEARTBEAT_TABLE} (
      id boolean PRIMARY KEY DEFAULT true CHECK (id), token bigint NOT NULL DEFAULT 0, at timestamptz);
    INSERT INTO ${HEARTBEAT_TABLE} (id) VALUES (true) ON CONFLICT DO NOTHING;
    CREATE OR REPLACE FUNCTION bluegreen.heartbeat_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_notify('${HEARTBEAT_CHANNEL}', NEW.token::text);
      RETURN NULL;
    END $fn$;
    DO $do$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'bluegreen_heartbeat_notify' AND tgrelid = '${HEARTBEAT_TABLE}'::regclass) THEN
        CREATE TRIGGER bluegreen_heartbeat_notify AFTER UPDATE ON ${HEARTBEAT_TABLE}
          FOR EACH ROW EXECUTE FUNCTION bluegreen.heartbeat_notify();
        ALTER TABLE ${HEARTBEAT_TABLE} ENABLE ALWAYS TRIGGER bluegreen_heartbeat_notify;
      END IF;
    END $do$`);
}

/**
 * Commits a new heartbeat token (the last published transaction before a drain) in one round trip;
 * returns it. The commit is synchronous whatever the server's setting: a logical walsender sends only
 * flushed WAL, and flushing the heartbeat flushes every commit before it (seen here: 400 ms drains
 * under synchronous_commit = off, waiting for the WAL writer).
 */
export async function beatHeartbeat(client: Client): Promise<string> {
  try {
    const results = (await client.query(
      `BEGIN; SET LOCAL synchronous_commit = on;
       UPDATE ${HEARTBEAT_TABLE} SET token = token + 1, at = clock_timestamp() RETURNING token::text; COMMIT`,
    )) as unknown as Array<{ rows: Array<{ token: string }> }>;
    return results[2].rows[0].token;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Listens, on the subscriber, for heartbeat tokens as the apply worker applies them (opened before the
 * pause, so no LISTEN round trip falls inside it). `until(token)` resolves once that token (or a later
 * one) is applied: told by the notification, with a slow poll as a safety net should none arrive.
 */
export async function watchHeartbeat(
  client: Client,
): Promise<{ until(token: string, deadline: number, what: string): Promise<number>; close(): Promise<void> }> {
  let latest = 0n;
  const waiters = new Set<() => void>();
  const onNotification = (msg: { channel: string; payload?: string }) => {
    if (msg.channel !== HEARTBEAT_CHANNEL || !msg.payload) return;
    const token = BigInt(msg.payload);
    if (token > latest) latest = token;
    for (const w of waiters) w();
  };
  client.on('notification', onNotification);
  await client.query(`LISTEN ${HEARTBEAT_CHANNEL}`);
  return {
    async until(token, deadline, what) {
      const want = BigInt(token);
      let polls = 0;
      while (latest < want) {
        if (performance.now() > deadline) {
          throw notAppliedInTime(what);
        }
        // Told, or after 50 ms look for ourselves (a subscriber whose heartbeat table lacks the trigger).
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, 50);
          function done() {
            clearTimeout(timer);
            waiters.delete(done);
            resolve();
          }
          waiters.add(done);
        });
        if (latest < want) {
          polls++;
          const row = await queryOne<{ token: string }>(client, `SELECT token::text FROM ${HEARTBEAT_TABLE}`);
          if (row && BigInt(row.token) > latest) latest = BigInt(row.token);
        }
      }
      return polls;
    },
    async close() {
      client.off('notification', onNotification);
      await client.query(`UNLISTEN ${HEARTBEAT_CHANNEL}`).catch(() => undefined);
    },
  };
}

/**
 * Waits until the subscriber shows `token`: apply is in commit order, so every transaction the
 * publisher committed before the heartbeat is applied and visible there too.
 */
export async function waitForHeartbeat(client: Client, token: string, deadline: number, what: string): Promise<number> {
  let polls = 0;
  for (;;) {
    polls++;
    const row = await queryOne<{ ok: boolean }>(client, `SELECT token >= $1::bigint AS ok FROM ${HEARTBEAT_TABLE}`, [token]);
    if (row?.ok) return polls;
    if (performance.now() > deadline) {
      throw notAppliedInTime(what);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}
