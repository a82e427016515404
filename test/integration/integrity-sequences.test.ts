/**
 * compare's sequence-behind check on the serving side under live writes: writers insert through
 * every kind of sequence (serial, identity, cached, descending, cycling, one shared by two tables)
 * while the check runs again and again. It must never cry "behind" for a sequence that hands out the
 * very values the column holds (reading the sequence before the column did, about one run in five),
 * and must still report a sequence truly behind.
 * Fast clusters: no durability asserted.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkIntegrity } from '../../src/adapters/catalog/integrity.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';

const SCHEMA = `
CREATE TABLE events (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
CREATE TABLE events_archive (id bigint PRIMARY KEY DEFAULT nextval('events_id_seq'), at timestamptz NOT NULL DEFAULT now());
CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY (CACHE 20) PRIMARY KEY, name text);
CREATE TABLE debits (id bigint PRIMARY KEY, note text);
CREATE SEQUENCE debits_id_seq INCREMENT -1 OWNED BY debits.id;
ALTER TABLE debits ALTER id SET DEFAULT nextval('debits_id_seq');
CREATE TABLE slots (id int PRIMARY KEY, note text);
CREATE SEQUENCE slots_id_seq MAXVALUE 1000000000 CYCLE OWNED BY slots.id;
ALTER TABLE slots ALTER id SET DEFAULT nextval('slots_id_seq');
`;

/** One statement a table, each its own transaction: commits land between any two reads of the check. */
const INSERTS = [
  `INSERT INTO events DEFAULT VALUES`,
  `INSERT INTO events_archive DEFAULT VALUES`,
  `INSERT INTO accounts (name) VALUES ('a')`,
  `INSERT INTO debits (note) VALUES ('d')`,
  `INSERT INTO slots (note) VALUES ('s')`,
];

describe('sequence-behind under live writes', () => {
  let sb: Sandbox;
  const clients: pg.Client[] = [];
  const connect = async () => {
    const c = new pg.Client({ connectionString: sb.blueUrl });
    await c.connect();
    clients.push(c);
    return c;
  };
  const behind = async (c: pg.Client) =>
    (await checkIntegrity(c, { sequencesMayLag: false })).filter((f) => f.check === 'sequence-behind');

  beforeAll(async () => {
    sb = await startSandbox({ fast: true });
    const c = await connect();
    await c.query(SCHEMA);
  });
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await sb?.stop();
  });

  it('never reports a sequence behind that its writers are moving, and still reports one truly behind', async () => {
    const checker = await connect();
    expect(await behind(checker)).toEqual([]);
    let stop = false;
    let written = 0;
    const writer = async (c: pg.Client, offset: number) => {
      for (let i = offset; !stop; i++) {
        await c.query(INSERTS[i % INSERTS.length]);
        written++;
      }
    };
    const writers = [writer(await connect(), 0), writer(await connect(), 2)];
    try {
      for (let run = 0; run < 30; run++) {
        const found = await behind(checker);
        expect(found, `run ${run}: ${found.map((f) => `${f.object} ${f.detail}`).join('; ')}`).toEqual([]);
      }
    } finally {
      stop = true;
      await Promise.all(writers);
    }
    expect(written).toBeGreaterThan(100);

    // Truly behind: an ascending sequence set back, a descending one set back (up), and a shared
    // sequence passed by an explicit id in the table that does not own it.
    await checker.query(`SELECT setval('events_id_seq', (SELECT max(id) FROM events) - 10)`);
    await checker.query(`SELECT setval('debits_id_seq', (SELECT min(id) FROM debits) + 3)`);
    const found = await behind(checker);
    const at = (object: string) => found.find((f) => f.object === object)?.detail;
    expect(found.map((f) => f.object).sort()).toEqual(['public.debits_id_seq', 'public.events_id_seq']);
    expect(at('public.events_id_seq')).toMatch(/^at \d+, public\.events(_archive)?\.id reaches \d+: the next insert would collide$/);
    expect(at('public.debits_id_seq')).toMatch(/^at -\d+, public\.debits\.id reaches -\d+: the next insert would collide$/);
    expect(found.every((f) => f.severity === 'fail')).toBe(true);

    await checker.query(`SELECT setval('events_id_seq', (SELECT greatest((SELECT max(id) FROM events), (SELECT max(id) FROM events_archive))))`);
    await checker.query(`SELECT setval('debits_id_seq', (SELECT min(id) FROM debits))`);
    expect(await behind(checker)).toEqual([]);
    await checker.query(`INSERT INTO events_archive (id) VALUES (nextval('events_id_seq') + 1000)`);
    expect((await behind(checker)).map((f) => f.detail)).toEqual([expect.stringMatching(/^at \d+, public\.events_archive\.id reaches \d+: the next insert/)]);
  });
});
