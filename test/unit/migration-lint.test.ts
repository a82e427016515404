import { describe, expect, it } from 'vitest';
import { lintMigrations } from '../../src/core/migration-lint.js';

const lint = (sql: string) => lintMigrations([{ file: '0009_x.up.sql', sql }]);

describe('migration lint (replicate mode)', () => {
  it('allows expand-only changes: the demo migrations pass', () => {
    expect(
      lint(`ALTER TABLE positions ADD COLUMN leverage numeric(6,2) NOT NULL DEFAULT 1;
            ALTER TABLE api_keys ADD COLUMN scopes text[] NOT NULL DEFAULT '{read}';
            ALTER TABLE users ADD COLUMN nickname text;
            CREATE INDEX CONCURRENTLY IF NOT EXISTS trades_executed_at_idx ON trades (executed_at);
            CREATE TABLE price_alerts (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id));
            ALTER TABLE orders ADD CONSTRAINT qty_positive CHECK (quantity > 0) NOT VALID;
            UPDATE positions SET leverage = 2 WHERE symbol = 'TSLA';`),
    ).toEqual([]);
  });

  it.each([
    ['DROP TABLE trades;', 'drops a table'],
    ['ALTER TABLE users DROP COLUMN name;', 'drops a column'],
    ['ALTER TABLE users DROP name;', 'drops a column'],
    ['ALTER TABLE users RENAME COLUMN name TO full_name;', 'renames a column'],
    ['ALTER TABLE users RENAME TO customers;', 'renames a table'],
    ['ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;', 'changes a column type'],
    ['ALTER TABLE orders ALTER quantity SET DATA TYPE bigint;', 'changes a column type'],
    ['ALTER TABLE orders ALTER COLUMN limit_price SET NOT NULL;', 'makes an existing column NOT NULL'],
    ['ALTER TABLE users ADD COLUMN tier text NOT NULL;', 'adds a NOT NULL column without a default'],
    ['ALTER TABLE orders ADD CONSTRAINT small CHECK (quantity < 10);', 'adds a constraint blue does not enforce'],
    ['CREATE UNIQUE INDEX users_name_key ON users (name);', 'adds a uniqueness'],
    ['TRUNCATE trades;', 'removes rows'],
    ['DELETE FROM orders WHERE status = \'open\';', 'removes rows'],
    ['ALTER TABLE "public"."Users" DROP COLUMN "Name";', 'drops a column'],
  ])('refuses %s', (sql, problem) => {
    const [finding, ...rest] = lint(`-- v2.7\n\n${sql}`);
    expect(rest).toEqual([]);
    expect(finding.problem).toContain(problem);
    expect(finding).toMatchObject({ file: '0009_x.up.sql', line: 3, statement: sql.replace(/;$/, '') });
    expect(finding.instead.length).toBeGreaterThan(10);
  });

  it('lets a migration change a table created earlier in the same set', () => {
    expect(
      lintMigrations([
        { file: '0001_a.up.sql', sql: 'CREATE TABLE alerts (id int PRIMARY KEY, note text);' },
        { file: '0002_b.up.sql', sql: 'ALTER TABLE alerts ALTER COLUMN note SET NOT NULL; ALTER TABLE alerts RENAME COLUMN note TO body;' },
      ]),
    ).toEqual([]);
  });

  it('is not fooled by comments, strings or names', () => {
    expect(lint(`-- DROP TABLE users;\nINSERT INTO audit (msg) VALUES ('DROP TABLE users');`)).toEqual([]);
    expect(lint(`ALTER TABLE "x""; drop table users; --" ADD COLUMN "rename x to y" int NOT NULL DEFAULT 7;`)).toEqual([]);
    expect(lint(`ALTER TABLE t ADD COLUMN note text DEFAULT 'drop column later';`)).toEqual([]);
    expect(lint(`CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ DELETE FROM t $$;`)).toEqual([]);
    expect(lint(`ALTER TABLE "Odd ""Name""" DROP COLUMN "a b";`)[0]).toMatchObject({ statement: 'ALTER TABLE "Odd ""Name""" DROP COLUMN "a b"', problem: expect.stringContaining('drops a column') });
  });
});
