/**
 * What a client's session loses across a flip through PgBouncer 1.18 in transaction mode (the README's
 * "Pool modes and what a client loses across a flip" cites this file). PAUSE closes every server
 * connection and the next transaction gets a new one on the other side, so state kept on the server
 * connection is gone: SETs, temporary tables, LISTEN, session advisory locks, named prepared
 * statements. What PgBouncer itself tracks per client (application_name, TimeZone, ...) is set again.
 * One client alone, so before the flip it keeps landing on the same server connection (PgBouncer
 * reuses the last one released) and its session state is visibly there: the flip is what takes it.
 * Fast clusters (fsync off): nothing here is about durability.
 * Fast clusters: no durability asserted.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _switchover } from '../../src/commands/switchover.js';
import { type Rig, sql, startRig } from './helpers.js';

describe('session state across a flip, PgBouncer 1.18 in transaction mode', () => {
  let rig: Rig;
  let client: pg.Client;
  const one = async (text: string) => (await client.query(text)).rows[0] as Record<string, unknown>;

  beforeAll(async () => {
    rig = await startRig({ config: { mode: 'replicate' } });
    expect((await _clone(rig.deps)).ok).toBe(true);
    client = new pg.Client({ connectionString: rig.sandbox.appUrl, application_name: 'session-state-client' });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end().catch(() => undefined);
    await rig?.stop();
  });

  it('SETs, temp tables, LISTEN, advisory locks and named prepared statements do not follow the client to the new side', async () => {
    await client.query(`SET statement_timeout = '4321ms'`);
    await client.query(`SET TIME ZONE 'Asia/Tokyo'`);
    await client.query(`CREATE TEMP TABLE notes (n int)`);
    await client.query(`INSERT INTO notes VALUES (1)`);
    await client.query(`SELECT pg_advisory_lock(4242)`);
    await client.query(`LISTEN price_updates`);
    expect((await client.query({ name: 'get_one', text: 'SELECT $1::int AS v', values: [1] })).rows).toEqual([{ v: 1 }]);
    // Before the flip: all of it is there, on blue.
    expect(await one(`SELECT inet_server_port() AS port, current_setting('statement_timeout') AS t, (SELECT count(*)::int FROM notes) AS notes, pg_listening_channels() AS channel`)).toEqual({
      port: rig.sandbox.blue.port, t: '4321ms', notes: 1, channel: 'price_updates',
    });
    expect((await client.query({ name: 'get_one', text: 'SELECT $1::int AS v', values: [2] })).rows).toEqual([{ v: 2 }]);

    expect((await _switchover(rig.deps)).error).toBeUndefined();

    // The client's connection to PgBouncer survived; its next query runs on green, in a new server session.
    const after = await one(`SELECT inet_server_port() AS port, current_setting('statement_timeout') AS t, current_setting('application_name') AS app, current_setting('TimeZone') AS tz,
      (SELECT count(*)::int FROM pg_listening_channels()) AS channels, (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks`);
    expect(after).toEqual({
      port: rig.sandbox.green.port,
      t: '0', // the SET is gone: back to the server's default
      app: 'session-state-client', // tracked by PgBouncer and set again on the new server connection
      tz: 'Asia/Tokyo', // TimeZone too (a parameter the server reports, so PgBouncer tracks it)
      channels: 0, // LISTEN is gone: notifications on green never reach this client
      locks: 0,
    });
    await expect(client.query(`SELECT count(*) FROM notes`)).rejects.toThrow('relation "notes" does not exist');
    // node-postgres remembers it prepared get_one on this connection and sends only Bind/Execute: the new server has no such statement.
    await expect(client.query({ name: 'get_one', text: 'SELECT $1::int AS v', values: [3] })).rejects.toThrow('prepared statement "get_one" does not exist');
    // The advisory lock went with blue's server session: nobody holds it on either side.
    expect(await sql(rig.sandbox.blueUrl, `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`)).toEqual([{ n: 0 }]);
    expect(await sql(rig.sandbox.greenUrl, `SELECT pg_try_advisory_lock(4242) AS got`)).toEqual([{ got: true }]);
    // Unnamed statements (node-postgres' default for parameterised queries) are unaffected.
    expect((await client.query('SELECT $1::int AS v', [4])).rows).toEqual([{ v: 4 }]);
  });
});
