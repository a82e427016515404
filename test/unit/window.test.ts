import { describe, expect, it } from 'vitest';
import { enumDefinition, type SchemaSnapshot } from '../../src/core/schema-diff.js';
import { splitSettingList } from '../../src/core/settings.js';
import { assessWindow, describeCarry, indexTable, parseColumn, tableOf, verdictLine } from '../../src/core/window.js';

/** A serving side with one table, as readSchema writes it. */
const base: SchemaSnapshot = {
  'table public.users': 'table',
  'column public.users.id': 'bigint not null',
  'column public.users.email': 'text not null',
  'column public.users.name': 'text',
  'constraint public.users.users_pkey': 'PRIMARY KEY (id)',
  'index public.users_pkey': 'CREATE UNIQUE INDEX ON public.users USING btree (id)',
  'enum public.side': enumDefinition(['buy', 'sell']),
};
const published = new Map([['public.users', ['id', 'email', 'name']]]);
const judge = (fromNow: SchemaSnapshot, toNow: SchemaSnapshot = base, pub: ReadonlyMap<string, ReadonlyArray<string>> | undefined = published) =>
  assessWindow({ from: 'green', to: 'blue', fromBaseline: base, fromNow, toNow, published: pub });

describe('the window verdict', () => {
  it('is lossless with nothing to carry when the sides agree', () => {
    const v = judge(base);
    expect(v.carry).toEqual([]);
    expect(v.losses).toEqual([]);
    expect(verdictLine(v, 'rollback')).toBe('rollback: lossless');
  });

  it('carries a new column, a new table with its key, an enum value and an index, in dependency order', () => {
    const v = judge({
      ...base,
      'column public.users.nickname': 'text',
      'index public.users_name_idx': 'CREATE INDEX ON public.users USING btree (name)',
      'table public.notes': 'table',
      'column public.notes.id': 'bigint not null',
      'constraint public.notes.notes_pkey': 'PRIMARY KEY (id)',
      'index public.notes_pkey': 'CREATE UNIQUE INDEX ON public.notes USING btree (id)',
      'enum public.side': enumDefinition(['buy', 'sell', 'short']),
    });
    expect(v.losses).toEqual([]);
    expect(v.carry).toEqual([
      { kind: 'enum-value', type: 'public.side', label: 'short', after: 'sell' },
      { kind: 'table', table: 'public.notes' },
      { kind: 'column', table: 'public.users', column: 'nickname', add: true },
      { kind: 'index', table: 'public.users', index: 'public.users_name_idx' },
    ]);
    expect(v.carry.map(describeCarry)[2]).toBe('add column public.users.nickname, publish it and copy its values by key');
  });

  it('names what a destructive change loses: a dropped or retyped column, a relaxed NOT NULL, a renamed enum value, a dropped table', () => {
    const dropped = { ...base };
    delete (dropped as Record<string, string>)['column public.users.name'];
    expect(judge(dropped).losses).toEqual([{ object: 'column public.users.name', what: expect.stringMatching(/^dropped on green: blue keeps the column/) }]);
    expect(judge({ ...base, 'column public.users.name': 'character varying(10)' }).losses[0].what).toMatch(/type changed on green \(text → character varying\(10\)\)/);
    expect(judge({ ...base, 'column public.users.email': 'text' }).losses[0].what).toMatch(/NOT NULL dropped on green but blue still enforces it/);
    expect(judge({ ...base, 'enum public.side': enumDefinition(['buy', 'sold']) }).losses[0].what).toMatch(/value 'sell' renamed or removed/);
    const noTable = Object.fromEntries(Object.entries(base).filter(([k]) => !k.includes('users')));
    expect(judge(noTable).losses.map((l) => l.object)).toEqual(['table public.users']);
    expect(verdictLine(judge(dropped), 'rollback')).toMatch(/^rollback: would lose data \(1 item\):\n {2}column public\.users\.name/);
  });

  it('refuses to carry a new table without a primary key (it could not be replicated)', () => {
    const v = judge({ ...base, 'table public.log': 'table', 'column public.log.line': 'text' });
    expect(v.carry).toEqual([]);
    expect(v.losses[0]).toMatchObject({ object: 'table public.log', what: expect.stringMatching(/without a primary key/) });
  });

  it('sees a table or a column that left the publication and publishes it again', () => {
    expect(judge(base, base, new Map()).carry).toEqual([{ kind: 'republish', table: 'public.users' }]);
    expect(judge(base, base, new Map([['public.users', ['id', 'email']]])).carry).toEqual([{ kind: 'column', table: 'public.users', column: 'name', add: false }]);
  });

  it('never publishes an unlogged table again (PostgreSQL refuses it; the flips copy its rows)', () => {
    const unlogged = { ...base, 'table public.users': 'table (unlogged)' };
    expect(judge(unlogged, unlogged, new Map()).carry).toEqual([]);
  });

  it('treats what only the standby has (a migration\'s column on green before the switchover) as no loss', () => {
    const v = assessWindow({ from: 'blue', to: 'green', fromBaseline: base, fromNow: base, toNow: { ...base, 'column public.users.leverage': 'numeric not null default 1' }, published });
    expect(v).toMatchObject({ carry: [], losses: [] });
  });

  it('reads the names and definitions readSchema writes, quoted parts included', () => {
    expect(tableOf('"My Schema"."a.b"."col"')).toBe('"My Schema"."a.b"');
    expect(indexTable('CREATE UNIQUE INDEX ON "My Schema"."a.b" USING btree (id)')).toBe('"My Schema"."a.b"');
    expect(parseColumn('numeric(6,2) not null default 1.00 identity')).toEqual({ type: 'numeric(6,2)', notNull: true });
    expect(parseColumn('timestamp with time zone default now()')).toEqual({ type: 'timestamp with time zone', notNull: false });
  });

  it('splits stored list settings the way PostgreSQL quotes them', () => {
    expect(splitSettingList('app, "My Schema", public')).toEqual(['app', 'My Schema', 'public']);
    expect(splitSettingList('"a""b",c')).toEqual(['a"b', 'c']);
  });
});

describe('the window verdict with partitions (published through their root)', () => {
  const parted: SchemaSnapshot = {
    'table public.fills': 'partitioned table by RANGE (at)',
    'column public.fills.id': 'bigint not null',
    'column public.fills.at': 'timestamp with time zone not null',
    'constraint public.fills.fills_pkey': 'PRIMARY KEY (id, at)',
    'index public.fills_pkey': 'CREATE UNIQUE INDEX ON ONLY public.fills USING btree (id, at)',
    'table public.fills_09': "table partition of public.fills FOR VALUES FROM ('2026-09-01') TO ('2026-10-01')",
    'column public.fills_09.id': 'bigint not null',
    'column public.fills_09.at': 'timestamp with time zone not null',
  };
  const pub = new Map([['public.fills', null]]);
  const judgeParted = (fromNow: SchemaSnapshot, toNow: SchemaSnapshot = parted) =>
    assessWindow({ from: 'blue', to: 'green', fromBaseline: parted, fromNow, toNow, published: pub });
  const partition = (name: string, bound: string, of = 'public.fills', by = '') => ({
    [`table public.${name}`]: `${by ? `partitioned table by ${by}` : 'table'} partition of ${of} ${bound}`,
    [`column public.${name}.id`]: 'bigint not null',
    [`column public.${name}.at`]: 'timestamp with time zone not null',
  });

  it('takes a leaf published through its root for covered: nothing to re-publish, nothing lost', () => {
    const v = judgeParted(parted);
    expect(v.carry).toEqual([]);
    expect(v.losses).toEqual([]);
  });

  it('makes a new partition, sub-partitions after their parent, with the partition\'s own index after it', () => {
    const v = judgeParted({
      ...parted,
      ...partition('fills_12_h0', 'FOR VALUES WITH (modulus 2, remainder 0)', 'public.fills_12'),
      ...partition('fills_12', "FOR VALUES FROM ('2026-12-01') TO ('2027-01-01')", 'public.fills', 'HASH (id)'),
      'index public.fills_12_h0_at': 'CREATE INDEX ON public.fills_12_h0 USING btree (at)',
    });
    expect(v.losses).toEqual([]);
    expect(v.carry.map(describeCarry)).toEqual([
      "create partition public.fills_12 of public.fills FOR VALUES FROM ('2026-12-01') TO ('2027-01-01')",
      'create partition public.fills_12_h0 of public.fills_12 FOR VALUES WITH (modulus 2, remainder 0)',
      'create index public.fills_12_h0_at on public.fills_12_h0',
    ]);
  });

  it('follows an attach and a detach, without carrying the keys PostgreSQL moves with them', () => {
    const standby = { ...parted, 'table public.loose': 'table', 'column public.loose.id': 'bigint not null', 'column public.loose.at': 'timestamp with time zone not null' };
    const v = assessWindow({
      from: 'blue', to: 'green', fromBaseline: standby, toNow: standby, published: new Map([['public.fills', null], ['public.loose', null]]),
      fromNow: {
        ...parted,
        'table public.fills_09': 'table',
        'constraint public.fills_09.fills_09_pkey': 'PRIMARY KEY (id, at)',
        'index public.fills_09_pkey': 'CREATE UNIQUE INDEX ON public.fills_09 USING btree (id, at)',
        ...partition('loose', "FOR VALUES FROM ('2026-10-01') TO ('2026-11-01')"),
      },
    });
    expect(v.losses).toEqual([]);
    expect(v.carry.map(describeCarry)).toEqual([
      'detach partition public.fills_09 from public.fills',
      "attach public.loose to public.fills FOR VALUES FROM ('2026-10-01') TO ('2026-11-01')",
      'publish table public.fills_09 again (it left the publication) and copy its rows afresh',
    ]);
  });

  it('detaches on the standby a partition the serving side dropped, keeping its rows, and says so', () => {
    const fromNow = Object.fromEntries(Object.entries(parted).filter(([k]) => !k.includes('fills_09')));
    const v = judgeParted(fromNow);
    expect(v.losses).toEqual([]);
    expect(v.carry.map(describeCarry)).toEqual(['detach partition public.fills_09 from public.fills']);
    expect(v.notes.join('\n')).toMatch(/fills_09 was dropped on blue: it is detached on green and kept there/);
  });

  it('still refuses a change to the partition key or the persistence', () => {
    const v = judgeParted({ ...parted, 'table public.fills': 'partitioned table by LIST (at)' });
    expect(v.losses.map((l) => l.object)).toEqual(['table public.fills']);
  });
});
