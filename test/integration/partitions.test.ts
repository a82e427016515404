/**
 * Partitioned tables in replicate mode, through the switchover, the window and the rollback. The
 * publication publishes partitions through their root, so the window must reason about a root and
 * its partitions together: before this, every flip refused at sync-schema ("public.fills_2026_09 was
 * copied afresh to green but is empty there") after emptying green's copy of each partition.
 * Partitions made, attached and detached on the serving side after the clone (pg_partman's daily
 * work) are carried by sync-schema and by every flip. Durable clusters: a writer's acknowledgements
 * are checked, so fsync, synchronous_commit and full_page_writes stay on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _compare } from '../../src/commands/compare.js';
import { _status } from '../../src/commands/status.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { _syncSchema } from '../../src/commands/sync-schema.js';
import { startWriteLoad } from '../../src/sandbox/trading-app.js';
import { missingOrders, type Rig, sql, startRig } from './helpers.js';

const asApp = (rig: Rig, side: 'blue' | 'green') =>
  `postgres://${rig.sandbox.appUser}:${encodeURIComponent(rig.sandbox.appPassword)}@127.0.0.1:${rig.sandbox[side].port}/${rig.sandbox.database}`;

/** Every row of a partitioned table with the partition that holds it: equal on both sides means nothing was lost or misplaced. */
const placed = (table: string) => `SELECT tableoid::regclass::text AS part, * FROM ${table} ORDER BY 2, 1`;

describe('partitioned tables in replicate mode', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ fast: false, config: { mode: 'replicate', switchover: { timeoutMs: 20000 } } });
    const app = rig.sandbox.appUser;
    await sql(rig.sandbox.blueUrl, `
      CREATE TABLE fills (id bigint GENERATED ALWAYS AS IDENTITY, account_id bigint NOT NULL REFERENCES accounts (id), at timestamptz NOT NULL, qty int NOT NULL,
                          PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
      CREATE TABLE fills_2026_09 PARTITION OF fills FOR VALUES FROM ('2026-09-01') TO ('2026-10-01');
      CREATE TABLE fills_2026_10 PARTITION OF fills FOR VALUES FROM ('2026-10-01') TO ('2026-11-01') PARTITION BY HASH (id);
      CREATE TABLE fills_2026_10_h0 PARTITION OF fills_2026_10 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
      CREATE TABLE fills_2026_10_h1 PARTITION OF fills_2026_10 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
      CREATE TABLE fills_default PARTITION OF fills DEFAULT;
      CREATE INDEX fills_2026_09_qty ON fills_2026_09 (qty);
      INSERT INTO fills (account_id, at, qty) SELECT 1 + i % 5, timestamptz '2026-09-01' + i * interval '1 hour', i FROM generate_series(1, 1200) i;
      CREATE TABLE events (id bigserial, region text NOT NULL, payload jsonb, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
      CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu');
      CREATE TABLE events_us PARTITION OF events FOR VALUES IN ('us');
      INSERT INTO events (region, payload) SELECT (ARRAY['eu', 'us'])[1 + i % 2], jsonb_build_object('n', i) FROM generate_series(1, 300) i;
      ALTER TABLE fills OWNER TO ${app}; ALTER TABLE fills_2026_09 OWNER TO ${app}; ALTER TABLE fills_2026_10 OWNER TO ${app};
      ALTER TABLE fills_2026_10_h0 OWNER TO ${app}; ALTER TABLE fills_2026_10_h1 OWNER TO ${app}; ALTER TABLE fills_default OWNER TO ${app};
      ALTER TABLE events OWNER TO ${app}; ALTER TABLE events_eu OWNER TO ${app}; ALTER TABLE events_us OWNER TO ${app};
      GRANT CREATE ON SCHEMA public TO ${app}`);
  });
  afterAll(() => rig?.stop());

  it('switches over and rolls back with rows in partitions; partitions made, attached and detached on either side are carried', async () => {
    const load = startWriteLoad(rig.sandbox.appUrl, 100, 2);
    try {
      expect((await _clone(rig.deps)).ok).toBe(true);
      const blue = asApp(rig, 'blue');
      const green = asApp(rig, 'green');
      await sql(blue, `INSERT INTO fills (account_id, at, qty) VALUES (1, '2026-10-15', 7), (2, '2026-09-15', 8)`);

      // pg_partman's daily work on blue: a new partition with no default to fall back on stops replication into green.
      await sql(blue, `CREATE TABLE events_ap PARTITION OF events FOR VALUES IN ('ap'); INSERT INTO events (region, payload) SELECT 'ap', jsonb_build_object('ap', i) FROM generate_series(1, 40) i`);
      let status = await _status(rig.deps);
      for (let i = 0; i < 50 && status.replication[0].running; i++) {
        await new Promise((r) => setTimeout(r, 200));
        status = await _status(rig.deps);
      }
      expect(status.replication[0]).toMatchObject({ direction: 'blue → green', running: false });
      expect(status.window).toMatchObject({ next: 'switchover', verdict: 'lossless' });
      expect(status.window!.pending).toContain(`create partition public.events_ap of public.events FOR VALUES IN ('ap')`);
      // A new range partition while green has a default one: green routed its rows there meanwhile.
      await sql(blue, `CREATE TABLE fills_2026_11 PARTITION OF fills FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
        INSERT INTO fills (account_id, at, qty) SELECT 3, timestamptz '2026-11-01' + i * interval '1 hour', i FROM generate_series(1, 30) i`);
      // A table filled first and attached after: its rows were never published.
      await sql(blue, `CREATE TABLE events_sa (id bigint NOT NULL DEFAULT nextval('events_id_seq'), region text NOT NULL, payload jsonb, PRIMARY KEY (id, region));
        INSERT INTO events_sa (region, payload) SELECT 'sa', jsonb_build_object('sa', i) FROM generate_series(1, 25) i;
        ALTER TABLE events ATTACH PARTITION events_sa FOR VALUES IN ('sa')`);
      // And a partition detached: it leaves its root on both sides and is published as a table of its own.
      await sql(blue, `ALTER TABLE fills DETACH PARTITION fills_2026_09`);
      await sql(blue, `INSERT INTO fills_2026_09 (id, account_id, at, qty) VALUES (100000, 4, '2026-09-20', 99)`);

      const sync = await _syncSchema(rig.deps);
      expect(sync.error).toBeUndefined();
      expect(sync.carried).toEqual(expect.arrayContaining([
        `create partition public.events_ap of public.events FOR VALUES IN ('ap')`,
        `create partition public.fills_2026_11 of public.fills FOR VALUES FROM ('2026-11-01 00:00:00+00') TO ('2026-12-01 00:00:00+00')`,
        `create partition public.events_sa of public.events FOR VALUES IN ('sa')`,
        'detach partition public.fills_2026_09 from public.fills',
        'publish table public.fills_2026_09 again (it left the publication) and copy its rows afresh',
        'copy public.events afresh (a partition attached on blue held rows that were never replicated)',
      ]));
      // A table carried on its own first, attached later: green already has its rows, so it is attached there as it is.
      await sql(blue, `CREATE TABLE events_la (id bigint NOT NULL DEFAULT nextval('events_id_seq'), region text NOT NULL, payload jsonb, PRIMARY KEY (id, region));
        INSERT INTO events_la (region, payload) SELECT 'la', jsonb_build_object('la', i) FROM generate_series(1, 15) i`);
      expect((await _syncSchema(rig.deps)).carried).toEqual(['create table public.events_la, publish it and copy its rows']);
      await sql(blue, `ALTER TABLE events ATTACH PARTITION events_la FOR VALUES IN ('la'); INSERT INTO events (region, payload) VALUES ('la', '{"after": "attach"}')`);
      expect((await _syncSchema(rig.deps)).carried).toEqual([`attach public.events_la to public.events FOR VALUES IN ('la')`]);
      expect((await _status(rig.deps)).replication[0]).toMatchObject({ running: true });
      for (const t of ['fills', 'events', 'fills_2026_09']) expect(await sql(rig.sandbox.greenUrl, placed(t)), t).toEqual(await sql(rig.sandbox.blueUrl, placed(t)));
      const compare = await _compare(rig.deps);
      expect(compare.tables.filter((t) => t.status !== 'ok' && t.status !== 'in-flight')).toEqual([]);

      const switchover = await _switchover(rig.deps);
      expect(switchover.error).toBeUndefined();
      expect(switchover.serving).toBe('green');

      // The same on green during the window: a two-level partition made and written there reaches blue by the rollback.
      await sql(green, `CREATE TABLE fills_2026_12 PARTITION OF fills FOR VALUES FROM ('2026-12-01') TO ('2027-01-01') PARTITION BY HASH (id);
        CREATE TABLE fills_2026_12_h0 PARTITION OF fills_2026_12 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
        CREATE TABLE fills_2026_12_h1 PARTITION OF fills_2026_12 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
        INSERT INTO fills (account_id, at, qty) SELECT 5, timestamptz '2026-12-01' + i * interval '1 hour', i FROM generate_series(1, 50) i;
        INSERT INTO events (region, payload) VALUES ('ap', '{"on": "green"}')`);
      const rollback = await _rollback(rig.deps);
      expect(rollback.error).toBeUndefined();
      expect(rollback.steps.find((s) => s.name === 'sync-schema')?.detail).toMatch(/lossless/);
      for (const t of ['fills', 'events']) expect(await sql(rig.sandbox.blueUrl, placed(t)), t).toEqual(await sql(rig.sandbox.greenUrl, placed(t)));
      expect((await sql<{ n: number }>(rig.sandbox.blueUrl, `SELECT count(*)::int AS n FROM fills_2026_12_h0`))[0].n).toBeGreaterThan(0);

      // A sync cut short after making a partition on green, before checking its rows (as a killed controller
      // leaves it): the partition is on both sides, so nothing is left to carry, but the check is owed.
      await sql(blue, `CREATE TABLE events_nz (id bigint NOT NULL DEFAULT nextval('events_id_seq'), region text NOT NULL, payload jsonb, PRIMARY KEY (id, region));
        INSERT INTO events_nz (region, payload) SELECT 'nz', jsonb_build_object('nz', i) FROM generate_series(1, 9) i;
        ALTER TABLE events ATTACH PARTITION events_nz FOR VALUES IN ('nz')`);
      await sql(rig.sandbox.greenUrl, `SET bluegreen.allow_writes = on; CREATE TABLE events_nz PARTITION OF events FOR VALUES IN ('nz')`);
      const { writeFileSync } = await import('node:fs');
      writeFileSync(`${rig.config.stateDir}/${(await rig.deps.store.load())!.id}.partition-checks-green.json`, JSON.stringify(['public.events_nz']));
      expect((await _syncSchema(rig.deps)).carried).toEqual(['copy public.events afresh (a partition attached on blue held rows that were never replicated)']);
      expect(await sql(rig.sandbox.greenUrl, placed('events'))).toEqual(await sql(rig.sandbox.blueUrl, placed('events')));

      const stats = await load.stop();
      expect(stats.refused).toBe(0);
      expect(await missingOrders(rig.sandbox.blueUrl, stats.acknowledged)).toEqual([]);
      console.log(`partitions test: ${stats.acknowledged.length} writes acknowledged, 0 refused, 0 missing`);
    } finally {
      await load.stop();
    }
  });
});
