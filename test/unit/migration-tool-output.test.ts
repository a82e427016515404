/** What the operator is shown when an external migration tool fails: PostgreSQL's error and the migration, from the tool's real output. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { postgresErrorLines } from '../../src/commands/migrate-effect.js';

// Debian 12's Alembic 1.8.1 (SQLAlchemy 1.4, psycopg2) failing on a revision, as captured by the tool's log.
const alembicFailure = readFileSync(new URL('./fixtures/alembic-1.8-failed-revision.txt', import.meta.url), 'utf8');

describe('postgresErrorLines', () => {
  it("Alembic: the failing revision, PostgreSQL's message, the statement and the revision file's line; no library frames", () => {
    expect(postgresErrorLines(alembicFailure)).toEqual([
      "INFO  [alembic.runtime.migration] Running upgrade 0002 -> 0003, A release's mistake: an index on a column no revision created. PostgreSQL refuses it.",
      'psycopg2.errors.UndefinedColumn: column "client_reference" does not exist',
      '  File "/srv/app/alembic-app/versions/0003_broken_index.py", line 15, in upgrade',
      'sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedColumn) column "client_reference" does not exist',
      '[SQL: CREATE INDEX orders_client_reference_idx ON orders (client_reference)]',
    ]);
  });

  it('Alembic running several revisions in one transaction: only the last one it started is named, the one that failed', () => {
    const run = alembicFailure.replace(
      'INFO  [alembic.runtime.migration] Running upgrade 0002',
      'INFO  [alembic.runtime.migration] Running upgrade 0001 -> 0002, A nullable column\nINFO  [alembic.runtime.migration] Running upgrade 0002',
    );
    const lines = postgresErrorLines(run);
    expect(lines.filter((l) => l.includes('Running upgrade'))).toEqual([expect.stringContaining('Running upgrade 0002 -> 0003')]);
  });

  it("psql-style errors keep their detail and hint lines", () => {
    const output = 'applying 0002_orders.sql\npsql:0002_orders.sql:3: ERROR:  column "x" does not exist\nLINE 1: SELECT x FROM orders\n               ^\nHINT:  Perhaps you meant to reference the column "orders.id".\ndone';
    expect(postgresErrorLines(output)).toEqual([
      'psql:0002_orders.sql:3: ERROR:  column "x" does not exist',
      'LINE 1: SELECT x FROM orders',
      'HINT:  Perhaps you meant to reference the column "orders.id".',
    ]);
  });
});
