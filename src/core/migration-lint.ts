/**
 * Replicate mode's migration lint. While green applies blue's writes and blue may take green's back
 * after a rollback, a migration may only expand the schema: add tables, nullable columns or columns
 * with defaults, indexes. Statements that would break replication or the rollback path are refused
 * before anything runs, each with the expand/contract way to get the same result.
 */
import { splitStatements } from './sql-split.js';
import { lineAndColumn } from './migrations.js';

export interface LintFinding {
  readonly file: string;
  readonly line: number;
  /** The statement's first line, as written. */
  readonly statement: string;
  readonly problem: string;
  readonly instead: string;
}

interface Rule {
  readonly test: RegExp;
  readonly problem: string;
  readonly instead: string;
  /** The rule is about a table that exists on blue (not one created earlier in these migrations). */
  readonly onExistingTable?: boolean;
  readonly unless?: RegExp;
}

const NAME = String.raw`((?:"(?:[^"]|"")+"|[\w$]+)(?:\.(?:"(?:[^"]|"")+"|[\w$]+))?)`;
const ALTER = String.raw`^ALTER TABLE (?:IF EXISTS )?(?:ONLY )?${NAME}`;

const RULES: ReadonlyArray<Rule> = [
  { test: new RegExp(`^DROP TABLE (?:IF EXISTS )?${NAME}`, 'i'), onExistingTable: true, problem: 'drops a table blue still writes to: replication into green stops', instead: 'stop using the table in the application now; drop it in a later cutover, once this one is finalized (contract phase), or use freeze mode' },
  { test: new RegExp(`${ALTER}.* DROP (?:COLUMN )?(?!CONSTRAINT|DEFAULT|NOT NULL|IDENTITY|EXPRESSION)`, 'i'), onExistingTable: true, problem: 'drops a column blue still writes: replicated rows would not fit, and a rollback could not carry green\'s rows back', instead: 'keep the column and stop writing it; drop it in a later cutover (contract phase)' },
  { test: new RegExp(`${ALTER}.* RENAME (?:COLUMN )?(?!TO\\b)\\S+ TO `, 'i'), onExistingTable: true, problem: 'renames a column: blue keeps sending the old name', instead: 'add the new column, write both, backfill, move reads, and drop the old one in a later cutover' },
  { test: new RegExp(`${ALTER} RENAME TO `, 'i'), onExistingTable: true, problem: 'renames a table: blue keeps sending the old name', instead: 'create the new table (or a view) alongside, move the application, drop the old one in a later cutover' },
  { test: new RegExp(`${ALTER}.* ALTER (?:COLUMN )?\\S+ (?:SET DATA )?TYPE `, 'i'), onExistingTable: true, problem: 'changes a column type: replicated values may not convert, and rollback sends the new type back to blue', instead: 'add a column of the new type, backfill it, switch over, and drop the old one in a later cutover' },
  { test: new RegExp(`${ALTER}.* ALTER (?:COLUMN )?\\S+ SET NOT NULL`, 'i'), onExistingTable: true, problem: 'makes an existing column NOT NULL: a NULL written on blue would stop replication', instead: 'add CHECK (column IS NOT NULL) NOT VALID now, and VALIDATE it after the cutover' },
  { test: new RegExp(`${ALTER}.* ADD (?:COLUMN )?(?:IF NOT EXISTS )?\\S+ [^,]*\\bNOT NULL\\b`, 'i'), unless: /\bDEFAULT\b|\bGENERATED\b/i, onExistingTable: true, problem: 'adds a NOT NULL column without a default: rows replicated from blue have no value for it', instead: 'give it a DEFAULT, or add it nullable and backfill' },
  { test: new RegExp(`${ALTER}.* ADD (?:CONSTRAINT \\S+ )?(?:CHECK|FOREIGN KEY)\\b`, 'i'), unless: /\bNOT VALID\b/i, onExistingTable: true, problem: 'adds a constraint blue does not enforce: a write on blue that breaks it stops replication', instead: 'add it NOT VALID now, and VALIDATE CONSTRAINT after the cutover' },
  { test: new RegExp(`${ALTER}.* ADD (?:CONSTRAINT \\S+ )?(?:UNIQUE|PRIMARY KEY)\\b`, 'i'), onExistingTable: true, problem: 'adds a uniqueness blue does not enforce: a duplicate written on blue stops replication', instead: 'create the unique index after the cutover' },
  { test: new RegExp(`${ALTER}.* (?:SET SCHEMA|REPLICA IDENTITY|DROP CONSTRAINT \\S*pkey)`, 'i'), onExistingTable: true, problem: 'changes how the table is identified for replication', instead: 'make this change in a later cutover, or in freeze mode' },
  { test: new RegExp(`^CREATE UNIQUE INDEX (?:CONCURRENTLY )?(?:IF NOT EXISTS )?\\S+ ON (?:ONLY )?${NAME}`, 'i'), onExistingTable: true, problem: 'adds a uniqueness blue does not enforce: a duplicate written on blue stops replication', instead: 'create the unique index after the cutover' },
  { test: new RegExp(`^TRUNCATE (?:TABLE )?(?:ONLY )?${NAME}`, 'i'), onExistingTable: true, problem: 'removes rows blue still has: later updates to them cannot be applied on green', instead: 'clean data up after the cutover is finalized' },
  { test: new RegExp(`^DELETE FROM (?:ONLY )?${NAME}`, 'i'), onExistingTable: true, problem: 'removes rows blue still has: later updates to them cannot be applied on green', instead: 'clean data up after the cutover is finalized' },
  { test: /^DROP SCHEMA\b/i, problem: 'drops a schema blue still uses', instead: 'drop it in a later cutover (contract phase)' },
];

/** `"Public"."Orders"` → `Public.Orders`; unquoted names fold to lower case; `public.` is implied. */
function normaliseTable(raw: string): string {
  const parts = raw.match(/"(?:[^"]|"")+"|[^.]+/g) ?? [raw];
  const names = parts.map((p) => (p.startsWith('"') ? p.slice(1, -1).replace(/""/g, '"') : p.toLowerCase()));
  return names.length === 1 ? `public.${names[0]}` : names.join('.');
}

/**
 * Masks what the rules must not read as SQL: quoted identifiers become `"q0"`, `"q1"`… (restored when
 * a table name is captured), string literals `''`, dollar-quoted bodies `$$$$`, comments a space.
 * Otherwise a table named `x"; drop table users; --` or a DEFAULT 'drop column' would trip a rule.
 */
function mask(sql: string): { text: string; restore: (s: string) => string } {
  const idents: string[] = [];
  const text = sql
    .replace(/--[^\n]*|\/\*[\s\S]*?\*\/|\$([A-Za-z_][A-Za-z0-9_]*)?\$[\s\S]*?\$\1\$|'(?:[^']|'')*'|"(?:[^"]|"")*"/g, (m) => {
      if (m.startsWith('"')) {
        idents.push(m);
        return `"q${idents.length - 1}"`;
      }
      if (m.startsWith("'")) return "''";
      if (m.startsWith('$')) return '$$$$';
      return ' ';
    })
    .replace(/\s+/g, ' ')
    .trim();
  return { text, restore: (s) => s.replace(/"q(\d+)"/g, (_, i: string) => idents[Number(i)]) };
}

/**
 * Lints migrations in the order they will run. Tables created by an earlier statement of the same
 * set are new on green, so changes to them are free.
 */
export function lintMigrations(files: ReadonlyArray<{ readonly file: string; readonly sql: string }>): LintFinding[] {
  const created = new Set<string>();
  const findings: LintFinding[] = [];
  for (const { file, sql } of files) {
    for (const statement of splitStatements(sql)) {
      const { text, restore } = mask(statement.sql);
      const create = new RegExp(`^CREATE (?:UNLOGGED )?TABLE (?:IF NOT EXISTS )?${NAME}`, 'i').exec(text);
      if (create) {
        created.add(normaliseTable(restore(create[1])));
        continue;
      }
      for (const rule of RULES) {
        const m = rule.test.exec(text);
        if (!m || rule.unless?.test(text)) continue;
        if (rule.onExistingTable && m[1] && created.has(normaliseTable(restore(m[1])))) continue;
        const firstLine = statement.sql.split('\n').find((l) => l.trim() && !l.trim().startsWith('--'))?.trim() ?? text;
        findings.push({
          file,
          line: lineAndColumn(sql, statement.offset + 1).line + statement.sql.slice(0, statement.sql.indexOf(firstLine)).split('\n').length - 1,
          statement: firstLine.length > 120 ? `${firstLine.slice(0, 117)}...` : firstLine,
          problem: rule.problem,
          instead: rule.instead,
        });
        break;
      }
    }
  }
  return findings;
}

export function describeLintFinding(f: LintFinding): string {
  return `${f.file}:${f.line}: ${f.statement}\n    ${f.problem}\n    instead: ${f.instead}`;
}
