import { describe, expect, it } from 'vitest';
import { type TableComparison, verdict } from '../../src/core/compare-model.js';
import { parseConnString, describeConn, withDatabase } from '../../src/core/conninfo.js';
import { formatDuration, parseDuration } from '../../src/core/duration.js';
import { findMigrations, lineAndColumn, loadMigration, planMigrations } from '../../src/core/migrations.js';
import { quoteIdent, quoteQualified, displayName, splitQualified } from '../../src/core/quote.js';
import { redact } from '../../src/core/redact.js';
import { parseRolesScript, planRoles } from '../../src/core/roles.js';
import { diffSchemas } from '../../src/core/schema-diff.js';
import { splitStatements } from '../../src/core/sql-split.js';

describe('quoting', () => {
  it('quotes every identifier, doubling quotes, including an injection attempt', () => {
    expect(quoteIdent('x"; drop table users; --')).toBe('"x""; drop table users; --"');
    expect(quoteQualified('My Schema', 'order')).toBe('"My Schema"."order"');
    expect(displayName('public', 'orders')).toBe('public.orders');
    expect(displayName('public', 'Orders')).toBe('public."Orders"');
  });
});

describe('connection strings', () => {
  it('parses and describes without the password', () => {
    const c = parseConnString('postgres://app:p%40ss@db.internal:6543/my%20db?sslmode=require');
    expect(c).toMatchObject({ host: 'db.internal', port: 6543, user: 'app', password: 'p@ss', database: 'my db', params: { sslmode: 'require' } });
    expect(describeConn('postgres://app:p%40ss@db.internal:6543/app')).toBe('app@db.internal:6543/app');
    expect(withDatabase('postgres://app:pw@h:1/app', 'postgres')).toBe('postgres://app:pw@h:1/postgres');
  });
  it('refuses what is not a database URL', () => {
    expect(() => parseConnString('postgres://h:1')).toThrow(/names no database/);
    expect(() => parseConnString('not a url')).toThrow(/must start with postgres:\/\//);
  });
});

describe('redact', () => {
  it('removes secrets, URL passwords and PASSWORD literals', () => {
    const text = "connect postgres://app:hunter22@h/app failed; token hunter22; ALTER ROLE x PASSWORD 'SCRAM-SHA-256$abc'";
    const out = redact(text, ['hunter22']);
    expect(out).not.toContain('hunter22');
    expect(out).not.toContain('SCRAM-SHA-256$abc');
    expect(out).toContain('postgres://app:****@h/app');
  });
});

describe('durations', () => {
  it('parses operator durations and refuses negative ones', () => {
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('-1h')).toBeUndefined();
    expect(parseDuration('soon')).toBeUndefined();
    expect(formatDuration(3_723_000)).toBe('1h 02m');
    expect(formatDuration(850)).toBe('850 ms');
  });
});

describe('migrations', () => {
  const files = ['0002_b.up.sql', '0001_a.up.sql', '0001_a.down.sql', '10_c.up.sql', 'README.md'];
  it('orders numerically and pairs down scripts', () => {
    const { migrations, problems } = findMigrations(files);
    expect(problems).toEqual([]);
    expect(migrations.map((m) => [m.version, m.downFile])).toEqual([
      ['0001', '0001_a.down.sql'],
      ['0002', undefined],
      ['10', undefined],
    ]);
  });
  it('reports bad names and duplicate versions', () => {
    expect(findMigrations(['add stuff.sql', '0001_a.up.sql', '0001_b.up.sql', '0003_x.down.sql']).problems).toEqual([
      'add stuff.sql: not a migration name (expected <version>_<name>.up.sql or .down.sql)',
      '0001_b.up.sql: version 0001 is already used by "a"',
      '0003_x.down.sql: has no matching .up.sql',
    ]);
  });
  it('plans pending and detects changed applied files', () => {
    const a = loadMigration({ version: '1', name: 'a', upFile: '1_a.up.sql' }, 'CREATE TABLE a();');
    const b = loadMigration({ version: '2', name: 'b', upFile: '2_b.up.sql' }, '-- bluegreen:no-transaction\nCREATE INDEX CONCURRENTLY i ON a(x);');
    expect(b.transactional).toBe(false);
    const plan = planMigrations([a, b], [{ version: '1', name: 'a', checksum: 'old' }, { version: '9', name: 'gone', checksum: 'x' }]);
    expect(plan.pending.map((m) => m.version)).toEqual(['2']);
    expect(plan.changed).toEqual([{ version: '1', name: 'a', file: '1_a.up.sql' }]);
    expect(plan.missing.map((m) => m.version)).toEqual(['9']);
  });
  it('maps an error position to line and column', () => {
    expect(lineAndColumn('SELECT 1;\nSELEC 2;', 11)).toEqual({ line: 2, column: 1 });
  });
});

describe('splitStatements', () => {
  it('splits at top-level semicolons only', () => {
    const sql = `CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- a comment; with a semicolon\nINSERT INTO t VALUES ('a;b', "x;y");\n/* c; */ SELECT 2`;
    expect(splitStatements(sql).map((s) => s.sql)).toEqual([
      'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql',
      `-- a comment; with a semicolon\nINSERT INTO t VALUES ('a;b', "x;y")`,
      '/* c; */ SELECT 2',
    ]);
  });
});

describe('roles', () => {
  const script = `--\n-- Roles\n--\n\nCREATE ROLE app;\nALTER ROLE app WITH LOGIN PASSWORD 'SCRAM-SHA-256$x';\nCREATE ROLE "Weird ""Role""";\nALTER ROLE "Weird ""Role""" WITH NOLOGIN;\nCREATE ROLE postgres;\nALTER ROLE postgres WITH SUPERUSER;\nGRANT app TO "Weird ""Role""" GRANTED BY postgres;\n`;
  it('creates only the roles green lacks, keeping memberships', () => {
    const plan = planRoles(parseRolesScript(script), new Set(['postgres']));
    expect(plan.create).toEqual(['app', 'Weird "Role"']);
    expect(plan.skip).toEqual(['postgres']);
    expect(plan.statements.map((s) => s.kind)).toEqual(['create', 'alter', 'create', 'alter', 'grant']);
  });
});

describe('schema diff', () => {
  const atClone = { 'table public.t': 'table', 'column public.t.a': 'int' };
  const afterMigrations = { ...atClone, 'column public.t.b': 'text' };
  it('separates what the migrations explain from drift on either side', () => {
    const blue = { ...atClone, 'column public.t.drift': 'int' };
    const green = { ...afterMigrations, 'column public.t.byhand': 'int' };
    const diff = diffSchemas(blue, green, atClone, afterMigrations);
    expect(diff.expected.map((d) => d.object)).toEqual(['column public.t.b']);
    expect(diff.unexpected.map((d) => [d.object, d.reason])).toEqual([
      ['column public.t.byhand', 'changed on green outside the migrations'],
      // No DDL log given: the schema recorded at the clone is the only witness, and the reason says so.
      ['column public.t.drift', 'blue changed since the clone (DDL on blue, seen in the schema recorded at the clone; no DDL log records it)'],
    ]);
  });
  it('without a recorded clone schema every difference is unexpected', () => {
    expect(diffSchemas(atClone, afterMigrations).unexpected).toHaveLength(1);
  });
});

describe('compare verdict', () => {
  const none = { expected: [], unexpected: [] };
  it('fails on a real difference or a missing table, not on what is expected or in flight', () => {
    const row = (status: TableComparison['status']): TableComparison => ({ table: 'public.t', blueRows: 1, greenRows: 1, status });
    expect(verdict([row('ok'), row('new-on-green'), row('written-since-switchover'), row('in-flight')], none, [])).toBe(true);
    expect(verdict([row('differs')], none, [])).toBe(false);
    expect(verdict([row('missing-on-green')], none, [])).toBe(false);
    expect(verdict([row('ok')], none, [{ check: 'sequence-behind', object: 's', detail: '', severity: 'warn' }])).toBe(true);
    expect(verdict([row('ok')], none, [{ check: 'invalid-index', object: 'i', detail: '', severity: 'fail' }])).toBe(false);
  });
  it('splits qualified names as format(%I.%I) writes them', () => {
    expect(splitQualified('public.orders')).toEqual(['public', 'orders']);
    expect(splitQualified('"my.schema"."x""y"')).toEqual(['my.schema', 'x"y']);
  });
});
