import { describe, expect, it } from 'vitest';
import { judgeEffect } from '../../src/core/migration-effect.js';
import { enumDefinition, type SchemaSnapshot } from '../../src/core/schema-diff.js';

const green: SchemaSnapshot = {
  'table public.users': 'table',
  'column public.users.id': 'bigint not null',
  'column public.users.email': 'text not null',
  'column public.users.name': 'text',
  'constraint public.users.users_pkey': 'PRIMARY KEY (id)',
  'index public.users_pkey': 'CREATE UNIQUE INDEX ON public.users USING btree (id)',
  'enum public.side': enumDefinition(['buy', 'sell']),
  'sequence public.users_id_seq': 'bigint increment 1 min 1 max 9223372036854775807',
  'table public.pgmigrations': 'table',
};
const after = (changes: Record<string, string | undefined>): SchemaSnapshot =>
  Object.fromEntries(Object.entries({ ...green, ...changes }).filter(([, v]) => v !== undefined)) as SchemaSnapshot;
const rules = (a: SchemaSnapshot, data: Parameters<typeof judgeEffect>[2] = []) => judgeEffect(green, a, data, new Set(['public.pgmigrations'])).map((f) => `${f.rule}:${f.severity}`);

describe('the effect check judges what the migrations did', () => {
  it('passes expansion: a new table, a nullable column, a column with a default, a plain index, a new enum type', () => {
    expect(rules(after({
      'table public.notes': 'table', 'column public.notes.id': 'bigint not null', 'constraint public.notes.notes_pkey': 'PRIMARY KEY (id)',
      'index public.notes_pkey': 'CREATE UNIQUE INDEX ON public.notes USING btree (id)', 'constraint public.notes.notes_check': 'CHECK (id > 0)',
      'column public.users.nickname': 'text', 'column public.users.tier': "text not null default 'basic'::text",
      'index public.users_name_idx': 'CREATE INDEX ON public.users USING btree (name)', 'enum public.mood': enumDefinition(['calm']),
    }))).toEqual([]);
  });

  it('refuses what breaks either direction, naming the rule', () => {
    expect(rules(after({ 'column public.users.name': undefined }))).toEqual(['drop-column:refuse']);
    expect(rules(after({ 'column public.users.name': 'character varying(20)' }))).toEqual(['change-type:refuse']);
    expect(rules(after({ 'column public.users.name': 'text not null' }))).toEqual(['set-not-null:refuse']);
    expect(rules(after({ 'column public.users.email': 'text' }))).toEqual(['drop-not-null:refuse']);
    expect(rules(after({ 'column public.users.age': 'integer not null' }))).toEqual(['add-not-null-column:refuse']);
    expect(rules(after({ 'constraint public.users.email_check': "CHECK (email ~ '@'::text) NOT VALID" }))).toEqual(['add-check:refuse']);
    expect(rules(after({ 'constraint public.users.users_email_key': 'UNIQUE (email)', 'index public.users_email_key': 'CREATE UNIQUE INDEX ON public.users USING btree (email)' }))).toEqual(['add-unique:refuse']);
    expect(rules(after({ 'index public.users_lower_email': 'CREATE UNIQUE INDEX ON public.users USING btree (lower(email))' }))).toEqual(['add-unique:refuse']);
    expect(rules(after({ 'table public.users': 'table (unlogged)' }))).toEqual(['persistence:refuse']);
    expect(rules(after({ 'enum public.side': enumDefinition(['buy', 'short']) }))).toEqual(['drop-type:refuse']);
    expect(rules(after({ 'enum public.side': enumDefinition(['buy', 'sell', 'short']) }))).toEqual(['enum-value:warn']);
    expect(rules(after({ 'sequence public.users_id_seq': undefined }))).toEqual(['drop-sequence:refuse']);
    const dropped = Object.fromEntries(Object.entries(green).filter(([k]) => !k.includes('users')));
    expect(rules(dropped)).toEqual(['drop-sequence:refuse', 'drop-table:refuse']);
  });

  it('tells a backfill of a new column from a change to blue\'s data, and ignores the tool\'s own history', () => {
    const withTier = after({ 'column public.users.tier': 'text' });
    expect(rules(withTier, [{ table: 'public.users', operation: 'UPDATE', columns: ['tier'] }])).toEqual(['backfill:warn']);
    expect(rules(withTier, [{ table: 'public.users', operation: 'UPDATE', columns: ['tier', 'name'] }])).toEqual(['data-change:refuse']);
    expect(rules(withTier, [{ table: 'public.users', operation: 'UPDATE', statement: 'DO $$ ... $$' }])).toEqual(['data-change:refuse']);
    expect(rules(green, [{ table: 'public.users', operation: 'INSERT' }, { table: 'public.pgmigrations', operation: 'INSERT' }])).toEqual(['data-change:refuse']);
  });
});
