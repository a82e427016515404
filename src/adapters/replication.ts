/**
 * Native logical replication between blue and green: publications, slots (one created on a
 * replication connection with an exported snapshot for pg_dump), subscriptions, the heartbeat
 * that makes a drain exact, and lag figures.
 */
import pg from 'pg';
import { parseConnString, toConninfo } from '../core/conninfo.js';
import { BlueGreenError, TimeoutError } from '../core/errors.js';
import { quoteIdent, quoteLiteral, quoteQualified } from '../core/quote.js';
import { type Client, clientConfig, queryOne, toBlueGreenError } from './pg.js';

export const HEARTBEAT_TABLE = 'bluegreen.heartbeat';

/** The replication objects of one direction, named from the cutover id. */
export interface ReplicationNames {
  readonly publication: string;
  readonly slot: string;
  readonly subscription: string;
}

/** `bluegreen_fwd_20261121t113620_230d`: lowercase, digits and underscores, within 63 bytes. */
export function replicationNames(cutoverId: string, direction: 'fwd' | 'rev'): ReplicationNames {
  const base = `bluegreen_${direction}_${cutoverId.toLowerCase().replace(/[^a-z0-9]/g, '_')}`.slice(0, 60);
  return { publication: base, slot: base, subscription: base };
}

export const HEARTBEAT_CHANNEL = 'bluegreen_heartbeat';

/**
 * The table both sides keep for the drain: one row whose token the flip bumps on the side it leaves,
 * and a trigger that fires even for the apply worker (ENABLE ALWAYS) and announces each token applied
 * on a channel, so the drain is told rather than polling across the network.
 */
export async function ensureHeartbeat(client: Client): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS bluegreen;
    CREATE TABLE IF NOT EXISTS ${HEARTBEAT_TABLE} (id boolean PRIMARY KEY DEFAULT true CHECK (id), token bigint NOT NULL DEFAULT 0, at timestamptz);
    INSERT INTO ${HEARTBEAT_TABLE} (id) VALUES (true) ON CONFLICT DO NOTHING;
    CREATE OR REPLACE FUNCTION bluegreen.heartbeat_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_notify('${HEARTBEAT_CHANNEL}', NEW.token::text);
      RETURN NULL;
    END $fn$;
    DO $do$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'bluegreen_heartbeat_notify' AND tgrelid = '${HEARTBEAT_TABLE}'::regclass) THEN
        CREATE TRIGGER bluegreen_heartbeat_notify AFTER UPDATE ON ${HEARTBEAT_TABLE} FOR EACH ROW EXECUTE FUNCTION bluegreen.heartbeat_notify();
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
      `BEGIN; SET LOCAL synchronous_commit = on; UPDATE ${HEARTBEAT_TABLE} SET token = token + 1, at = clock_timestamp() RETURNING token::text; COMMIT`,
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
          throw new TimeoutError(`${what} did not finish in time: the subscriber has not applied the last transactions yet`, {
            hint: 'Something holds replication (a lock on the subscriber, a long transaction, a stopped apply worker): `bluegreen status` shows the lag.',
          });
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
      throw new TimeoutError(`${what} did not finish in time: the subscriber has not applied the last transactions yet`, {
        hint: 'Something holds replication (a lock on the subscriber, a long transaction, a stopped apply worker): `bluegreen status` shows the lag.',
      });
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

export interface PublishedTable {
  readonly schema: string;
  readonly name: string;
  /** A column list (PostgreSQL 15+) when only some columns are published. */
  readonly columns?: ReadonlyArray<string>;
}

/**
 * Tables with REPLICA IDENTITY FULL published without a column list when the list names every column
 * they store: PostgreSQL 15 then refuses every UPDATE and DELETE on the table ("Column list used by
 * the publication does not cover the replica identity"), even for a list of all its columns.
 */
export async function withoutListsOnFullIdentity<T extends PublishedTable>(client: Client, tables: ReadonlyArray<T>): Promise<T[]> {
  const listed = tables.filter((t) => t.columns);
  if (!listed.length) return [...tables];
  const { rows } = await client.query<{ schema: string; name: string; columns: string[] }>(
    `SELECT n.nspname AS schema, c.relname AS name, array_agg(a.attname::text) AS columns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      WHERE c.relreplident = 'f' AND (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))
      GROUP BY 1, 2`,
    [listed.map((t) => t.schema), listed.map((t) => t.name)],
  );
  const full = new Map(rows.map((r) => [`${r.schema}.${r.name}`, r.columns]));
  return tables.map((t) => {
    const all = full.get(`${t.schema}.${t.name}`);
    return all && t.columns && all.every((c) => t.columns!.includes(c)) ? { ...t, columns: undefined } : t;
  });
}

export async function createPublication(client: Client, name: string, tables: ReadonlyArray<PublishedTable>): Promise<void> {
  // ONLY: without it an inheritance parent brings its children in with its column list, and a child
  // listed with its own is "conflicting or redundant column lists" (a partitioned table still brings its partitions).
  const list = [...(await withoutListsOnFullIdentity(client, tables)), { schema: 'bluegreen', name: 'heartbeat' }]
    .map(
      (t) => `ONLY ${quoteQualified(t.schema, t.name)}${'columns' in t && t.columns ? ` (${t.columns.map(quoteIdent).join(', ')})` : ''}`,
    )
    .join(', ');
  await client.query(`CREATE PUBLICATION ${quoteIdent(name)} FOR TABLE ${list} WITH (publish_via_partition_root = true)`);
}

export async function dropPublication(client: Client, name: string): Promise<void> {
  await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(name)}`);
}

/**
 * A replication connection that creates a logical slot and exports its snapshot. The connection must
 * stay open while pg_dump reads the snapshot; `close()` ends it.
 */
export async function createSlotWithSnapshot(
  url: string,
  slot: string,
  label: string,
  secrets: ReadonlyArray<string>,
): Promise<{ snapshot: string; lsn: string; close(): Promise<void> }> {
  const client = new pg.Client({
    ...(await clientConfig(url)),
    replication: 'database',
    application_name: 'bluegreen clone',
  } as pg.ClientConfig);
  client.on('error', () => undefined);
  try {
    await client.connect();
    // The replication protocol takes no parameters; the slot name is ours and already safe, but quoted anyway.
    const { rows } = await client.query(`CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput EXPORT_SNAPSHOT`);
    return { snapshot: rows[0].snapshot_name, lsn: rows[0].consistent_point, close: () => client.end().catch(() => undefined) };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw toBlueGreenError(error, url, label, secrets);
  }
}

/** Creates a logical slot from SQL (no snapshot needed). */
export async function createSlot(client: Client, slot: string): Promise<string> {
  const row = await queryOne<{ lsn: string }>(client, `SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
  return row!.lsn;
}

/**
 * Moves a slot past everything written so far, so the stream it feeds starts after now.
 * pg_replication_slot_advance silently stops at the flushed WAL position, and apply workers commit
 * asynchronously: so first one synchronous commit flushes all WAL before it, then the slot goes to
 * the flush position, and where it really ended is checked (seen here: without the flush, rows the
 * apply worker had written came back through the new slot as duplicate keys; and a commit that
 * wrote no WAL, such as one that only called txid_current(), was not flushed at all).
 */
export async function advanceSlotToNow(client: Client, slot: string): Promise<string> {
  // One round trip: the synchronous commit (it must write WAL: a transaction that only took an xid
  // commits asynchronously whatever the setting), then the advance to the flush position.
  let results: Array<{ rows: Array<{ target: string; end_lsn: string; ok: boolean }> }>;
  try {
    results = (await client.query(
      `BEGIN; SET LOCAL synchronous_commit = on; SELECT pg_logical_emit_message(true, 'bluegreen', 'flush'); COMMIT;
       SELECT t.target::text AS target, a.end_lsn::text AS end_lsn, a.end_lsn >= t.target AS ok
         FROM (SELECT pg_current_wal_flush_lsn() AS target) t, pg_replication_slot_advance(${quoteLiteral(slot)}, t.target) a`,
    )) as unknown as typeof results;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  const moved = results[4].rows[0];
  if (!moved?.ok) {
    throw new BlueGreenError(`replication slot ${slot} stopped at ${moved?.end_lsn} short of ${moved?.target}`, {
      hint: 'Nothing was switched; retry. If it persists, report it with the server log.',
    });
  }
  return moved.target;
}

/** Drops a slot, waiting up to `waitMs` for its walsender to let go; missing is fine. */
export async function dropSlot(client: Client, slot: string, waitMs = 10_000): Promise<void> {
  const until = performance.now() + waitMs;
  for (;;) {
    const row = await queryOne<{ active_pid: number | null }>(client, 'SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [
      slot,
    ]);
    if (!row) return;
    if (row.active_pid !== null) {
      if (performance.now() > until)
        throw new BlueGreenError(`replication slot ${slot} is still in use by pid ${row.active_pid}`, {
          hint: `Stop that walsender (SELECT pg_terminate_backend(${row.active_pid})) and run the command again.`,
        });
      await client.query('SELECT pg_terminate_backend($1)', [row.active_pid]);
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    try {
      await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
      return;
    } catch (error) {
      if (performance.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * A libpq conninfo for the subscriber to reach the publisher (stored in pg_subscription, superuser-only):
 * every parameter of the peer address (sslmode, sslrootcert, sslcert, sslkey, sslcrl, sslpassword,
 * passfile, ...), escaped by libpq's rules. Certificate paths are read on the subscriber's host. With
 * no password, the subscriber's server looks in its own passfile (its OS user's ~/.pgpass, or passfile=).
 */
export function subscriptionConninfo(publisherUrl: string): string {
  return toConninfo(parseConnString(publisherUrl), ['application_name']);
}

/** Subscribes to an existing slot, without copying data (the rows are there already) unless `copy` (a re-seed). */
export async function createSubscription(client: Client, names: ReplicationNames, publisherUrl: string, copy = false): Promise<void> {
  try {
    await client.query(
      `CREATE SUBSCRIPTION ${quoteIdent(names.subscription)} CONNECTION ${quoteLiteral(subscriptionConninfo(publisherUrl))}
         PUBLICATION ${quoteIdent(names.publication)}
         WITH (create_slot = false, slot_name = ${quoteLiteral(names.slot)}, copy_data = ${copy}, enabled = true)`,
    );
  } catch (error) {
    // PostgreSQL's message may quote the connection string (and so the password, or a piece of it): reworded.
    const e = error as { code?: string; message?: string };
    const message = e.message ?? '';
    const quotesConninfo =
      /conninfo|connection (string|option)|invalid connection|password|could not connect|missing "="|unterminated quoted string/i.test(
        message,
      );
    if (!quotesConninfo) throw error;
    const reason = /password/i.test(message)
      ? 'it could not authenticate to the publisher (no password, or a wrong one)'
      : /could not connect|connection to server/i.test(message)
        ? 'it could not connect to the publisher'
        : 'PostgreSQL refused the connection string';
    throw new BlueGreenError(
      `creating subscription ${names.subscription} failed: ${reason}${e.code ? ` (SQLSTATE ${e.code})` : ''}; PostgreSQL's own message is withheld because it quotes the connection string`,
      {
        hint: `The subscriber connects with the other side's "peer" address (default: its url) from the subscriber's host. Without a password in it, the subscriber's server reads its own passfile: its OS user's ~/.pgpass on that host, or the file named by passfile= in the peer URL. Check the server log for the full message.`,
      },
    );
  }
}

/** Stops a subscription's apply worker and waits until it is gone. */
export async function disableSubscription(client: Client, name: string, waitMs = 10_000): Promise<void> {
  const exists = await queryOne(client, 'SELECT 1 FROM pg_subscription WHERE subname = $1', [name]);
  if (!exists) return;
  await client.query(`ALTER SUBSCRIPTION ${quoteIdent(name)} DISABLE`);
  const until = performance.now() + waitMs;
  while (await queryOne(client, 'SELECT 1 FROM pg_stat_subscription WHERE subname = $1 AND pid IS NOT NULL', [name])) {
    if (performance.now() > until) throw new BlueGreenError(`subscription ${name}'s apply worker did not stop within ${waitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function enableSubscription(client: Client, name: string): Promise<void> {
  await client.query(`ALTER SUBSCRIPTION ${quoteIdent(name)} ENABLE`);
}

/** Drops a subscription without touching its slot (the caller drops that on the publisher). */
export async function dropSubscription(client: Client, name: string): Promise<void> {
  const exists = await queryOne(client, 'SELECT 1 FROM pg_subscription WHERE subname = $1', [name]);
  if (!exists) return;
  await disableSubscription(client, name);
  await client.query(`ALTER SUBSCRIPTION ${quoteIdent(name)} SET (slot_name = NONE)`);
  await client.query(`DROP SUBSCRIPTION ${quoteIdent(name)}`);
}

/**
 * Waits for a subscription's apply worker to run. PostgreSQL's launcher starts at most one worker per
 * wal_retrieve_retry_interval (5 s by default), so a subscription made soon after another waits.
 */
export async function waitForApplyWorker(client: Client, name: string, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const health = await subscriptionHealth(client, name);
    if (health.workerRunning) return true;
    if (!health.exists || !health.enabled || performance.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface SubscriptionHealth {
  readonly exists: boolean;
  readonly enabled: boolean;
  readonly workerRunning: boolean;
  readonly lastMessageAgeSeconds?: number;
  /** Times the apply worker (and table sync) failed since the counters were last reset (by us, after a repair). */
  readonly applyErrors: number;
  readonly syncErrors: number;
}

export async function subscriptionHealth(client: Client, name: string): Promise<SubscriptionHealth> {
  const row = await queryOne<{
    enabled: boolean;
    running: boolean;
    age: number | null;
    apply_errors: string | null;
    sync_errors: string | null;
  }>(
    client,
    `SELECT s.subenabled AS enabled, (st.pid IS NOT NULL) AS running, extract(epoch FROM now() - st.last_msg_receipt_time)::float8 AS age,
            ss.apply_error_count::text AS apply_errors, ss.sync_error_count::text AS sync_errors
       FROM pg_subscription s LEFT JOIN pg_stat_subscription st ON st.subid = s.oid AND st.relid IS NULL
       LEFT JOIN pg_stat_subscription_stats ss ON ss.subid = s.oid WHERE s.subname = $1`,
    [name],
  );
  if (!row) return { exists: false, enabled: false, workerRunning: false, applyErrors: 0, syncErrors: 0 };
  return {
    exists: true,
    enabled: row.enabled,
    workerRunning: row.running,
    lastMessageAgeSeconds: row.age ?? undefined,
    applyErrors: Number(row.apply_errors ?? 0),
    syncErrors: Number(row.sync_errors ?? 0),
  };
}

/**
 * Zeroes a subscription's error counters: after a repair, any new failure is news. The function is a
 * superuser's unless granted (managed services): there the counters stay, and a guardrail that finds
 * them proves the worker applies now with a heartbeat, as it does after any repair. False when refused.
 */
export async function resetSubscriptionErrors(client: Client, name: string): Promise<boolean> {
  try {
    await client.query(`SELECT pg_stat_reset_subscription_stats(oid) FROM pg_subscription WHERE subname = $1`, [name]);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '42501') return false;
    throw error;
  }
}

export interface SlotLag {
  readonly slot: string;
  readonly exists: boolean;
  readonly active: boolean;
  /** WAL the subscriber has not confirmed yet. */
  readonly lagBytes: number;
  /** WAL kept on disk for this slot. */
  readonly retainedBytes: number;
  /** How far behind the subscriber is in time (the walsender's replay lag), when it is connected. */
  readonly lagSeconds?: number;
  /** PostgreSQL's verdict on the WAL the slot needs: reserved, extended, unreserved (past max_slot_wal_keep_size) or lost. */
  readonly walStatus?: string;
}

export async function slotLag(client: Client, slot: string): Promise<SlotLag> {
  const row = await queryOne<{
    active: boolean;
    lag: string | null;
    retained: string | null;
    seconds: number | null;
    wal_status: string | null;
  }>(
    client,
    `SELECT s.active, s.wal_status, pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint::text AS lag,
            pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint::text AS retained,
            extract(epoch FROM coalesce(r.replay_lag, '0'::interval))::float8 AS seconds
       FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid WHERE s.slot_name = $1`,
    [slot],
  );
  if (!row) return { slot, exists: false, active: false, lagBytes: 0, retainedBytes: 0 };
  return {
    slot,
    exists: true,
    active: row.active,
    lagBytes: Number(row.lag ?? 0),
    retainedBytes: Number(row.retained ?? 0),
    lagSeconds: row.active ? (row.seconds ?? 0) : undefined,
    walStatus: row.wal_status ?? undefined,
  };
}

/** Every slot, publication and subscription whose name says it is ours, on one database: for cleanup and leak checks. */
export async function ourReplicationObjects(client: Client): Promise<{ slots: string[]; publications: string[]; subscriptions: string[] }> {
  const like = 'bluegreen\\_%';
  const slots = (
    await client.query<{ n: string }>(
      `SELECT slot_name AS n FROM pg_replication_slots WHERE slot_name LIKE $1 AND database = current_database()`,
      [like],
    )
  ).rows.map((r) => r.n);
  const publications = (
    await client.query<{ n: string }>(`SELECT pubname AS n FROM pg_publication WHERE pubname LIKE $1`, [like])
  ).rows.map((r) => r.n);
  const subscriptions = (
    await client.query<{ n: string }>(
      `SELECT subname AS n FROM pg_subscription WHERE subname LIKE $1 AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [like],
    )
  ).rows.map((r) => r.n);
  return { slots, publications, subscriptions };
}
