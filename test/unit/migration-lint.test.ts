/**
 * The replicate-mode lint against a corpus of statements a real team writes, each labelled safe or
 * unsafe with the rule (and so the direction) it breaks. No false negative, no false positive.
 */
import { describe, expect, it } from 'vitest';
import { describeLintFinding, lintMigrations, RULES, uncheckedReason } from '../../src/core/migration-lint.js';
import { parseScript } from '../../src/adapters/sql-parser.js';

async function lint(sql: string, file = '0009_x.up.sql') {
  return lintMigrations([{ file, sql, parsed: await parseScript(sql) }]);
}

/** [statement, the rule it breaks or null when safe]. Tables users, orders, accounts, positions exist on blue. */
const CORPUS: ReadonlyArray<readonly [string, keyof typeof RULES | null]> = [
  // Expand: safe.
  ['ALTER TABLE positions ADD COLUMN leverage numeric(6,2) NOT NULL DEFAULT 1', null],
  ["ALTER TABLE api_keys ADD COLUMN scopes text[] NOT NULL DEFAULT '{read}'", null],
  ['ALTER TABLE users ADD COLUMN nickname text', null],
  ['ALTER TABLE users ADD COLUMN type text', null],
  ['ALTER TABLE users ADD COLUMN "order" int DEFAULT 0', null],
  ['ALTER TABLE users ADD COLUMN created_at timestamptz NOT NULL DEFAULT now()', null],
  ['ALTER TABLE orders ADD COLUMN total numeric GENERATED ALWAYS AS (quantity * 2) STORED', null],
  ['ALTER TABLE orders ADD COLUMN account_ref bigint REFERENCES accounts (id)', 'add-foreign-key'],
  ['ALTER TABLE orders ADD CONSTRAINT orders_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID', null],
  ['CREATE INDEX CONCURRENTLY IF NOT EXISTS trades_executed_at_idx ON trades (executed_at)', null],
  ['CREATE INDEX ON orders (placed_at)', null],
  ['CREATE TABLE price_alerts (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id), price numeric NOT NULL CHECK (price > 0))', null],
  ['CREATE TABLE IF NOT EXISTS audit.events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body jsonb)', null],
  ['CREATE SEQUENCE invoice_numbers START 1000', null],
  ["CREATE TYPE ticket_state AS ENUM ('open', 'closed')", null],
  ['CREATE VIEW open_orders AS SELECT * FROM orders WHERE status = \'open\'', null],
  ['CREATE MATERIALIZED VIEW order_totals AS SELECT account_id, count(*) FROM orders GROUP BY 1', null],
  ['CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM orders; RETURN NEW; END $$', null],
  ['ALTER TABLE users ALTER COLUMN name SET DEFAULT \'anonymous\'', null],
  ['ALTER TABLE users ALTER COLUMN name DROP DEFAULT', null],
  ['ALTER TABLE orders ALTER COLUMN symbol SET STATISTICS 500', null],
  ['COMMENT ON COLUMN users.name IS \'display name\'', null],
  ['GRANT SELECT ON orders TO reporting', null],
  ['CREATE SCHEMA IF NOT EXISTS audit', null],
  ['ALTER TABLE orders VALIDATE CONSTRAINT orders_account_fk', null],
  ['DROP INDEX CONCURRENTLY IF EXISTS orders_old_idx', null],
  ['SELECT set_config(\'lock_timeout\', \'5s\', false)', null],
  ['CREATE TRIGGER touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch()', null],
  ["ALTER TYPE order_side ADD VALUE 'short'", 'enum-value'],
  // Forward: green would refuse a row blue sends.
  ['ALTER TABLE orders ADD CONSTRAINT qty_positive CHECK (quantity > 0) NOT VALID', 'add-check'],
  ['ALTER TABLE orders ADD CONSTRAINT small CHECK (quantity < 10)', 'add-check'],
  ['ALTER TABLE users ADD COLUMN age int CHECK (age > 0)', 'add-check'],
  ['ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)', 'add-unique'],
  ['ALTER TABLE accounts ADD CONSTRAINT no_overlap EXCLUDE USING gist (user_id WITH =)', 'add-unique'],
  ['CREATE UNIQUE INDEX users_name_key ON users (name)', 'add-unique'],
  ['CREATE UNIQUE INDEX ON users (lower(email))', 'add-unique'],
  ['CREATE UNIQUE INDEX CONCURRENTLY users_email_lower ON public.users (lower(email))', 'add-unique'],
  ['ALTER TABLE users ADD COLUMN handle text UNIQUE', 'add-unique'],
  ['ALTER TABLE orders ALTER COLUMN limit_price SET NOT NULL', 'set-not-null'],
  ['ALTER TABLE users ADD COLUMN tier text NOT NULL', 'add-not-null-column'],
  ['ALTER TABLE orders ALTER COLUMN quantity TYPE bigint', 'change-type'],
  ['ALTER TABLE orders ALTER quantity SET DATA TYPE numeric(30,4)', 'change-type'],
  ['ALTER TABLE users ALTER COLUMN name TYPE varchar(50)', 'change-type'],
  ['ALTER TABLE orders ADD CONSTRAINT orders_account_fk2 FOREIGN KEY (account_id) REFERENCES accounts (id)', 'add-foreign-key'],
  // Identity: the table stops replicating or is no longer the same.
  ['DROP TABLE trades', 'drop-table'],
  ['DROP TABLE IF EXISTS trades, orders CASCADE', 'drop-table'],
  ['ALTER TABLE users DROP COLUMN name', 'drop-column'],
  ['ALTER TABLE users DROP name', 'drop-column'],
  ['ALTER TABLE "public"."Users" DROP COLUMN "Name"', 'drop-column'],
  ['ALTER TABLE users RENAME COLUMN name TO full_name', 'rename-column'],
  ['ALTER TABLE users RENAME TO customers', 'rename-table'],
  ['ALTER TABLE users SET SCHEMA archive', 'rename-table'],
  ['ALTER TABLE orders SET UNLOGGED', 'persistence'],
  ['ALTER TABLE measurements DETACH PARTITION measurements_2025', 'partition'],
  ['ALTER TABLE measurements ATTACH PARTITION measurements_2027 FOR VALUES FROM (\'2027-01-01\') TO (\'2028-01-01\')', 'partition'],
  ['ALTER TABLE users REPLICA IDENTITY FULL', 'replica-identity'],
  ['ALTER TABLE users DROP CONSTRAINT users_pkey', 'replica-identity'],
  ['DROP SEQUENCE invoice_seq', 'drop-sequence'],
  ["ALTER TYPE order_side RENAME VALUE 'sell' TO 'short'", 'drop-type'],
  ['DROP TYPE order_side', 'drop-type'],
  ['DROP SCHEMA legacy CASCADE', 'drop-schema'],
  // Reverse: blue would refuse a row green writes after the switchover.
  ['ALTER TABLE users ALTER COLUMN email DROP NOT NULL', 'drop-not-null'],
  ['ALTER TABLE users DROP CONSTRAINT users_email_key', 'drop-constraint'],
  ['ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_quantity_check', 'drop-constraint'],
  // Data changes on tables blue writes.
  ["UPDATE positions SET leverage = 2 WHERE symbol = 'TSLA'", 'data-change'],
  ["UPDATE users SET name = initcap(name)", 'data-change'],
  ["INSERT INTO accounts (user_id, currency) VALUES (1, 'EUR')", 'data-change'],
  ["INSERT INTO users (email, name) SELECT email, name FROM staging_users", 'data-change'],
  ["DELETE FROM orders WHERE status = 'cancelled'", 'data-change'],
  ['WITH gone AS (DELETE FROM orders WHERE quantity = 0 RETURNING id) SELECT count(*) FROM gone', 'data-change'],
  ['MERGE INTO accounts a USING staging s ON a.id = s.id WHEN MATCHED THEN UPDATE SET balance = s.balance', 'data-change'],
  ['TRUNCATE trades', 'data-change'],
  ["COPY users (email, name) FROM '/tmp/users.csv' WITH (FORMAT csv)", 'data-change'],
  // Opaque.
  ["DO $$ BEGIN EXECUTE 'ALTER TABLE users DROP COLUMN name'; END $$", 'opaque'],
  ['CALL archive_old_orders()', 'opaque'],
  ['SELECT create_partitions(\'orders\', 12)', 'opaque'],
  ["SELECT setval('orders_id_seq', 100000)", 'opaque'],
];

describe('migration lint (replicate mode): the corpus', () => {
  it('has at least 60 statements, each rule with an example', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(60);
    const covered = new Set(CORPUS.map(([, r]) => r));
    for (const rule of Object.keys(RULES)) if (rule !== 'backfill') expect(covered, rule).toContain(rule);
  });

  it.each(CORPUS)('%s → %s', async (sql, rule) => {
    const findings = await lint(`-- v2.7\n\n${sql};\n`);
    if (rule === null) {
      expect(findings).toEqual([]);
      return;
    }
    expect(findings.map((f) => f.rule)).toContain(rule);
    const f = findings.find((x) => x.rule === rule)!;
    expect(f).toMatchObject({ file: '0009_x.up.sql', line: 3, column: 1, direction: RULES[rule].direction });
    expect(f.severity).toBe(rule === 'enum-value' ? 'warn' : 'refuse');
    expect(f.statement).toBe(sql.length > 120 ? `${sql.slice(0, 117)}...` : sql);
  });
});

describe('migration lint: scope, positions, opt-out', () => {
  it('lets a migration change what the same set created, and temporary tables', async () => {
    const files = ['CREATE TABLE alerts (id int PRIMARY KEY, note text);', 'ALTER TABLE alerts ALTER COLUMN note SET NOT NULL; ALTER TABLE alerts RENAME COLUMN note TO body; INSERT INTO alerts VALUES (1, \'x\');'];
    const parsed = await Promise.all(files.map(async (sql, i) => ({ file: `000${i + 1}_x.up.sql`, sql, parsed: await parseScript(sql) })));
    expect(lintMigrations(parsed)).toEqual([]);
    expect(await lint('CREATE TEMP TABLE scratch AS SELECT id FROM users; UPDATE scratch SET id = id + 1; DROP TABLE scratch;')).toEqual([]);
    expect(await lint("CREATE TYPE mood AS ENUM ('a'); ALTER TYPE mood ADD VALUE 'b';")).toEqual([]);
  });

  it('allows a backfill of a column the same set added, with a warning', async () => {
    const findings = await lint('ALTER TABLE users ADD COLUMN tier text;\nUPDATE users SET tier = \'basic\' WHERE tier IS NULL;');
    expect(findings).toEqual([expect.objectContaining({ rule: 'backfill', severity: 'warn', line: 2, column: 1, direction: 'data' })]);
    // Setting an existing column in the same UPDATE is a data change.
    expect((await lint('ALTER TABLE users ADD COLUMN tier text;\nUPDATE users SET tier = \'basic\', name = name;'))[0].rule).toBe('data-change');
  });

  it('judges each subcommand of one ALTER TABLE: one NOT VALID exempts nothing else', async () => {
    const findings = await lint('ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID, ADD CONSTRAINT c CHECK (quantity > 0), DROP COLUMN limit_price;');
    expect(findings.map((f) => f.rule)).toEqual(['add-check', 'drop-column']);
  });

  it('names the line and column of the statement itself, past comments and on a later line', async () => {
    const sql = '/* the v2.7 schema change,\n   reviewed by ops */\n  ALTER TABLE users\n    DROP COLUMN name;\nSELECT 1; ALTER TABLE users RENAME TO customers;';
    const findings = await lint(sql);
    expect(findings.map((f) => [f.rule, f.line, f.column, f.statement])).toEqual([
      ['drop-column', 3, 3, 'ALTER TABLE users'],
      ['rename-table', 5, 11, 'ALTER TABLE users RENAME TO customers'],
    ]);
    expect(describeLintFinding(findings[0])).toBe(
      `0009_x.up.sql:3:3: ALTER TABLE users\n    refused (drop-column, identity): ${RULES['drop-column'].problem}\n    instead: ${RULES['drop-column'].instead}`,
    );
  });

  it('is not fooled by comments, strings or names', async () => {
    expect(await lint(`-- DROP TABLE users;\nCREATE TABLE audit (msg text); INSERT INTO audit (msg) VALUES ('DROP TABLE users');`)).toEqual([]);
    expect(await lint(`ALTER TABLE "x""; drop table users; --" ADD COLUMN "rename x to y" int NOT NULL DEFAULT 7;`)).toEqual([]);
    expect(await lint(`ALTER TABLE t ADD COLUMN note text DEFAULT 'drop column later';`)).toEqual([]);
    expect((await lint(`ALTER TABLE "Odd ""Name""" DROP COLUMN "a b";`))[0]).toMatchObject({ statement: 'ALTER TABLE "Odd ""Name""" DROP COLUMN "a b"', rule: 'drop-column' });
  });

  it('a file marked unchecked keeps its findings, as warnings, with the reason', async () => {
    const sql = '-- bluegreen:unchecked backfill reviewed with the data team, ticket OPS-42\nUPDATE users SET name = trim(name);';
    expect(uncheckedReason(sql)).toBe('backfill reviewed with the data team, ticket OPS-42');
    expect(await lint(sql)).toEqual([expect.objectContaining({ rule: 'data-change', severity: 'warn' })]);
  });

  it('a file that does not parse is refused at the error', async () => {
    const [f] = await lint('ALTER TABLE users\n  ADD COLUM nickname text;');
    // PostgreSQL reads `COLUM nickname` as a column named colum of type nickname: the error is at `text`.
    expect(f).toMatchObject({ rule: 'syntax', severity: 'refuse', line: 2, column: 22, problem: 'does not parse: syntax error at or near "text"' });
  });
});
