/**
 * One migration file run on a database: in one transaction (with its history row), or statement by
 * statement for a file that opts out; a failure becomes our error naming the file, line and column,
 * with PostgreSQL's message, SQLSTATE, detail and hint.
 */
import { MigrationError } from '../core/errors.js';
import { lineAndColumn, type Migration } from '../core/migrations.js';
import { redact } from '../core/redact.js';
import { splitStatements } from '../core/sql-split.js';
import { type Client, withTransaction } from './pg.js';

/** The message a failing statement earns: file, line, column, PostgreSQL's message, detail and hint. */
const ROLLED_BACK = 'It was rolled back: green is as it was before this migration.';
const PARTLY_APPLIED = 'It ran outside a transaction: statements before the failing one stay applied.';

const FIX = 'Fix the file and run `bluegreen migrate` again.';

interface PgErrorFields {
  message?: string;
  code?: string;
  position?: string;
  detail?: string;
  hint?: string;
}

function migrationFailure(
  m: Migration,
  file: string,
  sql: string,
  offset: number,
  error: unknown,
  secrets: ReadonlyArray<string>,
): MigrationError {
  const pgError = ((error as Error).cause ?? error) as PgErrorFields;
  let where = '';
  const position = pgError.position ? Number(pgError.position) : undefined;
  if (position) {
    const { line, column } = lineAndColumn(sql, offset + position);
    const text = sql.split('\n')[line - 1]?.trim();
    where = ` at line ${line}, column ${column}${text ? `:\n    ${text}` : ''}`;
  }
  const sqlstate = pgError.code ? ` (SQLSTATE ${pgError.code})` : '';
  const lines = [`migration ${file} failed${where}`, `  ${redact(pgError.message ?? String(error), secrets)}${sqlstate}`];
  if (pgError.detail) lines.push(`  detail: ${redact(pgError.detail, secrets)}`);
  return new MigrationError(lines.join('\n'), {
    hint: `${pgError.hint ? `${pgError.hint}. ` : ''}${m.transactional ? ROLLED_BACK : PARTLY_APPLIED} ${FIX}`,
    cause: error,
  });
}

export async function runScript(
  client: Client,
  m: Migration,
  file: string,
  sql: string,
  transactional: boolean,
  secrets: ReadonlyArray<string>,
  record: () => Promise<void>,
): Promise<void> {
  try {
    if (transactional) {
      await withTransaction(client, async () => {
        await client.query(sql);
        await record();
      });
    } else {
      for (const s of splitStatements(sql)) {
        try {
          await client.query(s.sql);
        } catch (error) {
          throw Object.assign(new Error('statement failed'), { inner: error, offset: s.offset });
        }
      }
      await record();
    }
  } catch (error) {
    const inner = (error as { inner?: unknown }).inner;
    throw migrationFailure(m, file, sql, inner ? (error as { offset: number }).offset : 0, inner ?? error, secrets);
  }
}
