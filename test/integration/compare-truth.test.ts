/**
 * Compare on a freeze-mode dumping clone of a schema whose restore is not byte-for-byte blue's:
 * partitions (foreign keys PostgreSQL clones onto them, named by creation order), an inheritance
 * child whose parent gained a column later (pg_dump restores it in the parent's column order),
 * NOT VALID constraints, invalid indexes and an identity sequence behind its column, all of which
 * blue has too. Compare must report only true differences, with true reasons.
 * Fast clusters: no durability asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _compare } from '../../src/commands/compare.js';
import { renderCompare } from '../../src/cli/render.js';
import { type Rig, sql, startRig } from './helpers.js';

// The partition for September exists before the foreign key to `fills`, August's after it: blue
// names the key's clones in that order, a restore (tables first, keys after) in partition order.
const SCHEMA = `
CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
INSERT INTO accounts (name) SELECT 'account ' || g FROM generate_series(1, 5) g;
INSERT INTO accounts (id, name) OVERRIDING SYSTEM VALUE VALUES (100, 'imported');
ALTER TABLE accounts ADD CONSTRAINT accounts_name_short CHECK (length(name) < 10) NOT VALID;

CREATE TABLE fills (id bigint NOT NULL, account_id bigint NOT NULL REFERENCES accounts (id), at date NOT NULL, qty int NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE fills_2026_09 PARTITION OF fills FOR VALUES FROM ('2026-09-01') TO ('2026-10-01');
CREATE INDEX fills_account_idx ON fills (account_id);
CREATE TABLE fill_notes (id int PRIMARY KEY, fill_id bigint NOT NULL, fill_at date NOT NULL, note text);
ALTER TABLE fill_notes ADD FOREIGN KEY (fill_id, fill_at) REFERENCES fills (id, at);
CREATE TABLE fills_2026_08 PARTITION OF fills FOR VALUES FROM ('2026-08-01') TO ('2026-09-01');
-- Invalid until every partition's index is attached: pg_dump restores it invalid too.
CREATE INDEX fills_qty_idx ON ONLY fills (qty);
INSERT INTO fills SELECT g, 1 + g % 5, date '2026-08-20' + g % 20, g FROM generate_series(1, 40) g;
INSERT INTO fill_notes SELECT g, g, date '2026-08-20' + g % 20, 'note ' || g FROM generate_series(1, 40, 3) g;

CREATE TABLE events (id int PRIMARY KEY, kind text NOT NULL);
CREATE TABLE login_events (ip inet) INHERITS (events);
ALTER TABLE events ADD COLUMN at timestamptz NOT NULL DEFAULT '2026-01-01';
INSERT INTO login_events (id, kind, ip) VALUES (1, 'login', '10.0.0.1'), (2, 'login', '10.0.0.2');

CREATE TABLE transfers (id serial PRIMARY KEY, account_id bigint NOT NULL);
INSERT INTO transfers (account_id) VALUES (1), (2), (999);
ALTER TABLE transfers ADD CONSTRAINT transfers_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;

CREATE TABLE tags (id int PRIMARY KEY, label text NOT NULL);
INSERT INTO tags VALUES (1, 'a'), (2, 'a'), (3, 'b');
`;

const onBlue = (rig: Rig, text: string) => sql(rig.sandbox.blueUrl, `SET bluegreen.allow_writes = on; ${text}`);
const onGreen = (rig: Rig, text: string) => sql(rig.sandbox.greenUrl, `SET bluegreen.allow_writes = on; ${text}`);

describe('compare on a restore that is not byte-for-byte blue', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ seed: false });
    await sql(rig.sandbox.blueUrl, SCHEMA);
    // CONCURRENTLY runs outside a transaction, and on duplicates leaves an invalid index behind.
    await expect(sql(rig.sandbox.blueUrl, 'CREATE UNIQUE INDEX CONCURRENTLY tags_label_key ON tags (label)')).rejects.toThrow(/could not create unique index/);
    const clone = await _clone(rig.deps);
    expect(clone.error).toBeUndefined();
  });
  afterAll(() => rig?.stop());

  it('finds no difference, names what blue shares as warnings and reports the column order', async () => {
    // The fixture holds what it is for: the restore named the foreign key's clones otherwise.
    const clones = (url: string) => sql(url, `SELECT conname, confrelid::regclass::text AS ref FROM pg_constraint WHERE conrelid = 'fill_notes'::regclass AND conparentid <> 0 ORDER BY 1`);
    expect(await clones(rig.sandbox.greenUrl)).not.toEqual(await clones(rig.sandbox.blueUrl));
    const result = await _compare(rig.deps);
    expect(result.schema.unexpected).toEqual([]);
    expect(result.tables.filter((t) => t.status !== 'ok')).toEqual([]);
    const shared = (check: string, object: string) => result.integrity.find((f) => f.check === check && f.object === object);
    for (const [check, object] of [
      ['invalid-constraint', 'public.accounts.accounts_name_short'],
      ['invalid-constraint', 'public.transfers.transfers_account_fkey'],
      ['invalid-index', 'public.fills_qty_idx'],
      ['sequence-behind', 'public.accounts_id_seq'],
    ]) {
      expect(shared(check, object), `${check} ${object}`).toMatchObject({ severity: 'warn', alsoOnBlue: true, detail: expect.stringContaining('also on blue') });
    }
    // pg_dump copies no invalid index: green lacks it, which is no loss (it was never used nor maintained).
    expect(result.integrity.find((f) => f.object === 'public.tags_label_key')).toMatchObject({ check: 'invalid-index', severity: 'warn', onlyOnBlue: true });
    expect(result.integrity.filter((f) => f.severity === 'fail')).toEqual([]);
    expect(result.schema.columnOrder).toEqual([
      { table: 'public.login_events', blue: ['id', 'kind', 'ip', 'at'], green: ['id', 'kind', 'at', 'ip'], affects: expect.stringMatching(/SELECT \*.*COPY/) },
    ]);
    expect(result.ok).toBe(true);
    // What the operator reads: the order as a warning, the shared findings as warnings.
    const text = renderCompare(result);
    expect(text).toContain('⚠ public.login_events: blue (id, kind, ip, at), green (id, kind, at, ip)');
    expect(text).toMatch(/⚠ invalid-constraint public\.transfers\.transfers_account_fkey: NOT VALID.*also on blue/);
    expect(text).not.toContain('✖');
  });

  it('fails on a difference made on green, saying it was made there', async () => {
    await onGreen(rig, `ALTER TABLE transfers DROP CONSTRAINT transfers_account_fkey; SELECT setval('transfers_id_seq', 1)`);
    try {
      const result = await _compare(rig.deps);
      expect(result.ok).toBe(false);
      expect(result.schema.unexpected).toEqual([
        { object: 'constraint public.transfers.transfers_account_fkey', kind: 'only-on-blue', blue: 'FOREIGN KEY (account_id) REFERENCES public.accounts(id) NOT VALID', reason: 'changed on green outside the migrations' },
      ]);
      // A sequence behind on green only is green's own failure.
      expect(result.integrity.find((f) => f.object === 'public.transfers_id_seq')).toMatchObject({ check: 'sequence-behind', severity: 'fail' });
      expect(result.integrity.find((f) => f.object === 'public.transfers_id_seq')?.alsoOnBlue).toBeFalsy();
    } finally {
      await onGreen(rig, `ALTER TABLE transfers ADD CONSTRAINT transfers_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID; SELECT setval('transfers_id_seq', 3)`);
    }
  });

  it('says "DDL on blue" only where blue\'s DDL log shows it', async () => {
    await onBlue(rig, `CREATE INDEX tags_label_idx ON tags (label)`);
    // Event triggers do not fire for a session in replica mode: a change the DDL log never saw.
    await onBlue(rig, `SET session_replication_role = replica; CREATE INDEX events_kind_idx ON events (kind)`);
    const result = await _compare(rig.deps);
    expect(result.ok).toBe(false);
    const reasons = Object.fromEntries(result.schema.unexpected.map((d) => [d.object, d.reason]));
    expect(reasons).toEqual({
      'index public.tags_label_idx': 'blue changed since the clone (DDL on blue)',
      'index public.events_kind_idx': "differs from blue; not explained by the DDL log or blue's schema at the clone",
    });
    expect(result.schema.unexpected.find((d) => d.object === 'index public.tags_label_idx')?.ddlOnBlue).toMatchObject([{ command: 'CREATE INDEX', object: 'public.tags_label_idx' }]);
  });
});
