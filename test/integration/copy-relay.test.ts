/**
 * The COPY relay on real servers: CopyData messages from one server's COPY TO go unchanged into another's
 * COPY FROM, whatever the chunking; an error on either side fails the relay and leaves both sessions usable.
 */
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CopyOutRelay, relayInto } from '../../src/adapters/copy-relay.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';

describe('COPY relay', () => {
  let sb: Sandbox;
  let blue: pg.Client;
  let green: pg.Client;
  const relay = (from: string, into: string) => {
    const out = new CopyOutRelay(from);
    void blue.query(out as unknown as pg.Submittable);
    const sink = green.query(relayInto(into));
    return { done: pipeline(out, sink), sink };
  };

  beforeAll(async () => {
    sb = await startSandbox({ fast: true, createGreenDatabase: true });
    blue = new pg.Client({ connectionString: sb.blueUrl });
    green = new pg.Client({ connectionString: sb.greenUrl });
    await Promise.all([blue.connect(), green.connect()]);
    await green.query('CREATE TABLE t (id int PRIMARY KEY, note text, blob bytea)');
  });
  afterAll(async () => {
    await Promise.all([blue?.end(), green?.end()]);
    await sb?.stop();
  });

  it('relays rows of every size, text and binary, and counts them', async () => {
    for (const format of ['', ' (FORMAT binary)']) {
      await green.query('TRUNCATE t');
      // Rows from 1 byte to 200 kB: messages split across socket reads and many in one.
      const { done, sink } = relay(
        `COPY (SELECT g, CASE WHEN g % 1000 = 0 THEN repeat('x', 200000) ELSE g::text END, CASE WHEN g % 7 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') END FROM generate_series(1, 30000) g) TO STDOUT${format}`,
        `COPY t FROM STDIN${format}`,
      );
      await done;
      expect((sink as unknown as { rowCount: number }).rowCount).toBe(30000);
      const [a] = (await blue.query(`SELECT sum(hashtextextended(g::text || coalesce(CASE WHEN g % 1000 = 0 THEN repeat('x', 200000) ELSE g::text END, '') || coalesce(encode(CASE WHEN g % 7 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') END, 'hex'), ''), 0))::text AS h FROM generate_series(1, 30000) g`)).rows;
      const [b] = (await green.query(`SELECT sum(hashtextextended(id::text || coalesce(note, '') || coalesce(encode(blob, 'hex'), ''), 0))::text AS h FROM t`)).rows;
      expect(b.h).toBe(a.h);
    }
  });

  it('an error on the sending side midway fails the relay, rolls the COPY back on the other, and both sessions go on', async () => {
    await green.query('TRUNCATE t');
    const { done } = relay(`COPY (SELECT g, 1 / (g - 20000), NULL FROM generate_series(1, 30000) g) TO STDOUT`, 'COPY t FROM STDIN');
    await expect(done).rejects.toThrow(/division by zero/);
    expect((await green.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(0);
    expect((await blue.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    expect((await green.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  });

  it('an error on the receiving side fails the relay; both sessions go on', async () => {
    await green.query('TRUNCATE t');
    await green.query('INSERT INTO t VALUES (25000, NULL, NULL)');
    // 40 MB more after the failing row: far more than the sockets hold, so the rest must be read and dropped.
    const { done } = relay(`COPY (SELECT g, repeat('y', 400), NULL FROM generate_series(1, 100000) g) TO STDOUT`, 'COPY t FROM STDIN');
    await expect(done).rejects.toThrow(/duplicate key/);
    expect((await green.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(1);
    expect((await blue.query('SELECT 2 AS two')).rows[0].two).toBe(2);
    expect((await green.query('SELECT 2 AS two')).rows[0].two).toBe(2);
  });
});
