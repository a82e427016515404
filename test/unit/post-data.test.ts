import { describe, expect, it } from 'vitest';
import { describesAnObject, type ForeignKey, groupPostData, isForeignKeyLeftToRestore, listWith, splitForeignKeys, tableKey, type TableObject } from '../../src/core/post-data.js';
import { foreignKeySql } from '../../src/adapters/stream-copy.js';

// As `pg_restore --list` prints them (pg_dump 15), post-data section of a schema like the demo's plus hostile names.
const LINES = [
  ';',
  '; Archive created at 2026-11-22 07:00:00 UTC',
  '3345; 2606 16420 CONSTRAINT public orders orders_pkey app',
  '3350; 1259 16440 INDEX public orders_account_idx app',
  '3347; 2606 16430 CONSTRAINT public trades trades_pkey app',
  '3360; 2606 16500 FK CONSTRAINT public trades trades_order_id_fkey app',
  '3361; 2620 16510 TRIGGER public orders audit app',
  '3362; 1259 16520 INDEX public "events" app',
  '3363; 1259 16530 INDEX my schema weird idx name app',
  '3364; 2606 16540 CONSTRAINT my schema odd table odd table_pkey app owner',
  '3365; 0 0 INDEX ATTACH public measurements_p1_pkey app',
  '3366; 1259 16560 INDEX public measurements_pkey app',
];

const OBJECTS: TableObject[] = [
  { kind: 'CONSTRAINT', schema: 'public', table: 'orders', name: 'orders_pkey' },
  { kind: 'INDEX', schema: 'public', table: 'orders', name: 'orders_account_idx' },
  { kind: 'CONSTRAINT', schema: 'public', table: 'trades', name: 'trades_pkey' },
  { kind: 'INDEX', schema: 'my schema', table: 'odd table', name: 'weird idx name' },
  { kind: 'CONSTRAINT', schema: 'my schema', table: 'odd table', name: 'odd table_pkey' },
  // A partitioned parent's index: its table never streams, so it waits with the rest.
  { kind: 'INDEX', schema: 'public', table: 'measurements', name: 'measurements_pkey' },
];

describe('post-data items by table', () => {
  it("puts a table's indexes and key constraints with it, and everything else last", () => {
    const { byTable, rest } = groupPostData(LINES, OBJECTS);
    expect(byTable.get(tableKey('public', 'orders'))).toEqual([LINES[2], LINES[3]]);
    expect(byTable.get(tableKey('public', 'trades'))).toEqual([LINES[4]]);
    // Names with spaces, matched by the exact text the catalog's names print as, not by splitting on spaces.
    expect(byTable.get(tableKey('my schema', 'odd table'))).toEqual([LINES[8], LINES[9]]);
    expect(byTable.get(tableKey('public', 'measurements'))).toEqual([LINES[11]]);
    // Foreign keys, triggers, attachments, anything unknown: with the rest; comments too.
    expect(rest).toEqual([LINES[0], LINES[1], LINES[5], LINES[6], LINES[7], LINES[10]]);
  });

  it('a list keeps only the chosen entries active and every comment as it was', () => {
    const text = listWith(LINES, new Set([LINES[5]])).split('\n');
    expect(text[0]).toBe(';');
    expect(text[5]).toBe(LINES[5]);
    expect(text.filter((l) => /^\d+;/.test(l))).toEqual([LINES[5]]);
    expect(text).toHaveLength(LINES.length);
  });
});

describe('foreign keys taken from pg_restore', () => {
  const key = (schema: string, table: string, name: string, validated = true): ForeignKey => ({ schema, table, name, references: tableKey('public', 't'), definition: 'FOREIGN KEY (x) REFERENCES public.t(id)', validated, bytes: 1 });
  const FK_LINES = [
    '3360; 2606 16500 FK CONSTRAINT public trades trades_order_id_fkey app',
    '3361; 2606 16501 FK CONSTRAINT my schema order lines fk one app owner',
    '3362; 2606 16502 FK CONSTRAINT public a b c app',
    '3363; 2606 16503 FK CONSTRAINT public parted parted_fkey app',
    '3364; 2606 16504 CONSTRAINT public trades trades_pkey app',
  ];

  it('matches each key by the exact text its names print as, and leaves the rest (and any doubt) to pg_restore', () => {
    const keys = [
      key('public', 'trades', 'trades_order_id_fkey'),
      key('my schema', 'order lines', 'fk one'),
      // Two keys whose texts could both begin line 3362: neither is taken.
      key('public', 'a', 'b'),
      key('public', 'a b', 'c'),
    ];
    const { foreignKeys, rest } = splitForeignKeys(FK_LINES, keys);
    expect([...foreignKeys.entries()]).toEqual([[FK_LINES[0], keys[0]], [FK_LINES[1], keys[1]]]);
    // Ambiguous, on a partitioned table (not in the catalog's list), and not a foreign key: pg_restore's.
    expect(rest).toEqual([FK_LINES[2], FK_LINES[3], FK_LINES[4]]);
  });

  it('leaves the keys pg_restore adds (a partitioned table\'s) for after the rest, not the other constraints', () => {
    const { foreignKeys } = splitForeignKeys(FK_LINES, [key('public', 'trades', 'trades_order_id_fkey'), key('my schema', 'order lines', 'fk one')]);
    expect(FK_LINES.filter((l) => isForeignKeyLeftToRestore(l, foreignKeys))).toEqual([FK_LINES[2], FK_LINES[3]]);
  });

  it('adds a validated key NOT VALID and checks it after; a key blue never validated stays so', () => {
    expect(foreignKeySql(key('my schema', 'order "lines"', 'fk; x'))).toEqual({
      add: 'ALTER TABLE ONLY "my schema"."order ""lines""" ADD CONSTRAINT "fk; x" FOREIGN KEY (x) REFERENCES public.t(id) NOT VALID',
      validate: 'ALTER TABLE ONLY "my schema"."order ""lines""" VALIDATE CONSTRAINT "fk; x"',
    });
    const loose = { ...key('public', 't2', 'k', false), definition: 'FOREIGN KEY (x) REFERENCES public.t(id) NOT VALID' };
    expect(foreignKeySql(loose)).toEqual({ add: 'ALTER TABLE ONLY "public"."t2" ADD CONSTRAINT "k" FOREIGN KEY (x) REFERENCES public.t(id) NOT VALID' });
  });

  it('tells comments and security labels (restored after the keys we add) from the objects they describe', () => {
    expect(describesAnObject('3400; 0 0 COMMENT my schema CONSTRAINT odd fk ON odd table app')).toBe(true);
    expect(describesAnObject('3401; 0 0 SECURITY LABEL public TABLE orders app')).toBe(true);
    expect(describesAnObject('3360; 2606 16500 FK CONSTRAINT public trades trades_order_id_fkey app')).toBe(false);
    expect(describesAnObject('3362; 1259 16520 INDEX public COMMENT app')).toBe(false);
    expect(describesAnObject(';3400; 0 0 COMMENT public CONSTRAINT fk ON t app')).toBe(false);
  });
});
