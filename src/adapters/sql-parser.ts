/**
 * PostgreSQL's own parser (libpg-query: the server's grammar compiled to WebAssembly). The lint reads
 * statements as PostgreSQL would, never by pattern. Positions come back as character offsets.
 */
import { loadModule, parseSync } from 'libpg-query';
import type { ParsedScript } from '../core/migration-lint.js';

let loaded: Promise<void> | undefined;

/** Parses a whole script: each statement's AST (as libpg-query's JSON) and where it starts; or the syntax error. */
export async function parseScript(sql: string): Promise<ParsedScript> {
  loaded ??= loadModule();
  await loaded;
  // The parser counts bytes; the rest of the tool counts characters.
  const bytes = Buffer.from(sql, 'utf8');
  const charAt = (byteOffset: number) => bytes.subarray(0, byteOffset).toString('utf8').length;
  try {
    const tree = parseSync(sql) as { stmts?: Array<{ stmt: Record<string, unknown>; stmt_location?: number; stmt_len?: number }> };
    return {
      statements: (tree.stmts ?? []).map((s) => {
        const start = charAt(s.stmt_location ?? 0);
        const end = s.stmt_len ? charAt((s.stmt_location ?? 0) + s.stmt_len) : sql.length;
        return { node: s.stmt, start, end };
      }),
    };
  } catch (error) {
    const e = error as { message?: string; sqlDetails?: { cursorPosition?: number } };
    const cursor = e.sqlDetails?.cursorPosition;
    return {
      statements: [],
      syntaxError: { message: e.message ?? String(error), offset: cursor === undefined ? undefined : charAt(cursor) },
    };
  }
}
