/** Compare's reasons and warnings, pure: what the DDL log proves, what blue shares, column order. */
import { describe, expect, it } from 'vitest';
import { type IntegrityFinding, invalidIndexesOnlyOnBlue, verdict, weighAgainstBlue } from '../../src/core/compare-model.js';
import { type DdlLogEntry, entriesTouching, entrySubjects, subjectsOf } from '../../src/core/ddl-evidence.js';
import { BLUE_DDL_REASON, BLUE_SNAPSHOT_REASON, columnOrderDifferences, diffSchemas, UNEXPLAINED_REASON, withoutKeys } from '../../src/core/schema-diff.js';

const entry = (command: string, objectType: string, object: string): DdlLogEntry => ({ at: '2026-09-01T10:00:00.000Z', command, objectType, object });

describe('DDL log entries and snapshot keys', () => {
  it('ties what event triggers name to the snapshot entries they change', () => {
    expect(entrySubjects(entry('ALTER TABLE', 'table constraint', 'orders_pkey on public.orders'))).toEqual(['public.orders']);
    expect(entrySubjects(entry('DROP TABLE', 'table column', 'public.orders.price'))).toEqual(['public.orders.price', 'public.orders']);
    expect(entrySubjects(entry('ALTER TABLE', 'default value', 'for "odd.schema".t.c'))).toEqual(['"odd.schema".t.c', '"odd.schema".t']);
    expect(subjectsOf('constraint public.orders.orders_pkey')).toEqual(['public.orders']);
    expect(subjectsOf('index public.fills_idx', 'CREATE INDEX ON ONLY public.fills USING btree (qty)')).toEqual(['public.fills_idx', 'public.fills']);
    expect(subjectsOf('materialized view public.mv')).toEqual(['public.mv']);
    expect(subjectsOf('database setting work_mem')).toEqual([]);
  });
  it('finds the entries that touched an object, and none for another table', () => {
    const log = [entry('CREATE INDEX', 'index', 'public.tags_label_idx'), entry('ALTER TABLE', 'table', 'public.users')];
    expect(entriesTouching('index public.tags_label_idx', 'CREATE INDEX ON public.tags USING btree (label)', log)).toEqual([log[0]]);
    expect(entriesTouching('column public.users.nick', 'text', log)).toEqual([log[1]]);
    expect(entriesTouching('column public.accounts.name', 'text', log)).toEqual([]);
  });
});

describe('schema diff reasons', () => {
  const atClone = { 'table public.t': 'table', 'column public.t.a': 'int', 'database setting work_mem': '4MB' };
  it('says "DDL on blue" only with the log entry that shows it, and nothing invented without one', () => {
    const blue = { ...atClone, 'column public.t.logged': 'int', 'index public.unlogged_idx': 'CREATE INDEX ON public.u USING btree (x)', 'database setting work_mem': '8MB' };
    const log = [entry('ALTER TABLE', 'table', 'public.t')];
    const diff = diffSchemas(blue, atClone, atClone, atClone, log);
    expect(diff.expected).toEqual([]);
    expect(diff.unexpected.map((d) => [d.object, d.reason])).toEqual([
      ['column public.t.logged', BLUE_DDL_REASON],
      // ALTER DATABASE is invisible to event triggers: the recorded schema is the witness.
      ['database setting work_mem', BLUE_SNAPSHOT_REASON],
      ['index public.unlogged_idx', UNEXPLAINED_REASON],
    ]);
    expect(diff.unexpected[0].ddlOnBlue).toEqual(log);
    expect(UNEXPLAINED_REASON).not.toMatch(/DDL on blue/);
  });
  it('without a DDL log on blue, falls back on the schema recorded at the clone', () => {
    const diff = diffSchemas({ ...atClone, 'column public.t.b': 'int' }, atClone, atClone);
    expect(diff.unexpected.map((d) => d.reason)).toEqual([BLUE_SNAPSHOT_REASON]);
  });
  it('still tells the migrations from changes made on green by hand', () => {
    const afterMigrations = { ...atClone, 'column public.t.m': 'text' };
    const diff = diffSchemas(atClone, { ...afterMigrations, 'column public.t.h': 'int' }, atClone, afterMigrations, []);
    expect(diff.expected.map((d) => [d.object, d.reason])).toEqual([['column public.t.m', 'changed on green by migrations']]);
    expect(diff.unexpected.map((d) => [d.object, d.reason])).toEqual([['column public.t.h', 'changed on green outside the migrations']]);
  });
  it('compares no derived object once its key is left out on both sides', () => {
    const derived = new Set(['constraint public.notes.notes_fill_fkey1']);
    const blue = { ...atClone, 'constraint public.notes.notes_fill_fkey1': 'FOREIGN KEY (f) REFERENCES public.fills_09(id)' };
    const green = { ...atClone, 'constraint public.notes.notes_fill_fkey1': 'FOREIGN KEY (f) REFERENCES public.fills_08(id)' };
    expect(diffSchemas(blue, green, green, green, []).unexpected).toHaveLength(1);
    expect(diffSchemas(withoutKeys(blue, derived), withoutKeys(green, derived), withoutKeys(green, derived), undefined, []).unexpected).toEqual([]);
  });
});

describe('column order', () => {
  it('reports a table whose shared columns come in another order, with both whole orders', () => {
    const blue = new Map([['public.login_events', ['id', 'kind', 'ip', 'at']], ['public.events', ['id', 'kind', 'at']]]);
    const green = new Map([['public.login_events', ['id', 'kind', 'at', 'ip']], ['public.events', ['id', 'kind', 'at']]]);
    const found = columnOrderDifferences(blue, green);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ table: 'public.login_events', blue: ['id', 'kind', 'ip', 'at'], green: ['id', 'kind', 'at', 'ip'] });
    expect(found[0].affects).toMatch(/SELECT \*.*INSERT or COPY without a column list/);
  });
  it('ignores columns only one side has (a migration adds them last)', () => {
    expect(columnOrderDifferences(new Map([['public.t', ['a', 'b']]]), new Map([['public.t', ['a', 'new', 'b']]]))).toEqual([]);
  });
});

describe('integrity weighed against blue', () => {
  const finding = (check: IntegrityFinding['check'], object: string, identity: string): IntegrityFinding => ({ check, object, detail: 'd', severity: 'fail', identity });
  it('makes what blue has identically a warning, and keeps what green has alone a failure', () => {
    const green = [finding('invalid-constraint', 'public.t.c', 'public.t CHECK (x > 0) NOT VALID'), finding('sequence-behind', 'public.s', 'public.t.id at 1 reaches 3')];
    const blue = [finding('invalid-constraint', 'public.t.c_renamed', 'public.t CHECK (x > 0) NOT VALID'), finding('sequence-behind', 'public.s', 'public.t.id at 3 reaches 3')];
    const weighed = weighAgainstBlue(green, blue);
    expect(weighed[0]).toMatchObject({ severity: 'warn', alsoOnBlue: true, detail: expect.stringContaining('also on blue') });
    expect(weighed[1]).toEqual(green[1]);
    const none = { expected: [], unexpected: [] };
    expect(verdict([], none, weighed)).toBe(false);
    expect(verdict([], none, weighed.slice(0, 1))).toBe(true);
  });
  it('names blue\'s invalid indexes that green lacks as warnings, and nothing green has', () => {
    const blue = [finding('invalid-index', 'public.tags_label_key', 'CREATE UNIQUE INDEX ON public.tags USING btree (label)'), finding('invalid-index', 'public.kept', 'CREATE INDEX ON ONLY public.f USING btree (q)')];
    const left = invalidIndexesOnlyOnBlue(blue, new Set(['index public.kept']));
    expect([...left.keys]).toEqual(['index public.tags_label_key']);
    expect(left.findings).toEqual([expect.objectContaining({ check: 'invalid-index', object: 'public.tags_label_key', severity: 'warn', onlyOnBlue: true })]);
  });
});
