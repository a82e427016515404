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
