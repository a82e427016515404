/**
 * Replicate mode's migration lint, on PostgreSQL's own parse tree (src/adapters/sql-parser.ts).
 *
 * The model, two directions while both sides run:
 * - forward: green must accept, unchanged, every row blue sends until the switchover (replication maps
 *   tables and columns by name, and green enforces its own constraints on every replicated row, NOT
 *   VALID ones included);
 * - reverse: blue must accept every row green writes after the switchover, for the rollback (blue keeps
 *   its constraints and types; new columns, tables and enum values are carried to it by sync-schema).
 * And two things that belong to neither: data changes on the tables blue writes (they split green from
 * blue, or collide with blue's sequences) and statements no reader can see into (DO, EXECUTE, a
 * function called for its effects). Each rule (migration-lint-rules.ts) names the direction it protects;
 * the judge (migration-lint-judge.ts) reads them off each statement. Objects created earlier in the
 * same set, and temporary ones, are green's alone: changes to them are free.
 */
import { judge, type Scope } from './migration-lint-judge.js';
import { type Direction, RULES } from './migration-lint-rules.js';
import { lineAndColumn } from './migrations.js';

export { type Direction, type RuleId, RULES } from './migration-lint-rules.js';

/** One parsed statement: libpg-query's JSON node (`{ AlterTableStmt: {...} }`) and its character span. */
export interface ParsedStatement {
  readonly node: Readonly<Record<string, unknown>>;
  readonly start: number;
  readonly end: number;
}

export interface ParsedScript {
  readonly statements: ReadonlyArray<ParsedStatement>;
  readonly syntaxError?: { readonly message: string; readonly offset?: number };
}

export interface LintFinding {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The statement's first line, as written. */
  readonly statement: string;
  readonly rule: string;
  readonly direction: Direction;
  /** `refuse` stops the run (unless the file opts out); `warn` is reported and the run goes on. */
  readonly severity: 'refuse' | 'warn';
  readonly problem: string;
  readonly instead: string;
}

/** `-- bluegreen:unchecked <reason>`: the file's author takes responsibility; its refusals become warnings. */
export function uncheckedReason(sql: string): string | undefined {
  const m = /^\s*--\s*bluegreen:unchecked\b[ \t]*(.*)$/m.exec(sql);
  return m ? m[1].trim() || '(no reason given)' : undefined;
}

/** Skips whitespace and comments from `offset`: where the statement's own text begins. */
function firstToken(sql: string, offset: number): number {
  let i = offset;
  for (;;) {
    while (i < sql.length && /\s/.test(sql[i])) i++;
    if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end + 1;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else return i;
  }
}

/**
 * Lints migrations in the order they run. A file marked `-- bluegreen:unchecked <reason>` has its
 * refusals reported as warnings. A file that does not parse is a refusal of its own (rule `syntax`).
 */
export function lintMigrations(
  files: ReadonlyArray<{ readonly file: string; readonly sql: string; readonly parsed: ParsedScript }>,
): LintFinding[] {
  const scope: Scope = { created: new Set(), temporary: new Set(), newColumns: new Set() };
  const findings: LintFinding[] = [];
  for (const { file, sql, parsed } of files) {
    const unchecked = uncheckedReason(sql) !== undefined;
    if (parsed.syntaxError) {
      const where = lineAndColumn(sql, (parsed.syntaxError.offset ?? 0) + 1);
      findings.push({
        file,
        ...where,
        statement: sql.split('\n')[where.line - 1]?.trim() ?? '',
        rule: 'syntax',
        direction: 'opaque',
        severity: 'refuse',
        problem: `does not parse: ${parsed.syntaxError.message}`,
        instead: 'fix the syntax error',
      });
      continue;
    }
    for (const st of parsed.statements) {
      const at = firstToken(sql, st.start);
      const { line, column } = lineAndColumn(sql, at + 1);
      const text = sql.slice(at, st.end).split('\n')[0].trim().replace(/;$/, '');
      const seen = new Set<string>();
      for (const hit of judge(st.node, scope)) {
        if (seen.has(hit.rule)) continue;
        seen.add(hit.rule);
        const rule = RULES[hit.rule];
        findings.push({
          file,
          line,
          column,
          statement: text.length > 120 ? `${text.slice(0, 117)}...` : text,
          rule: hit.rule,
          direction: rule.direction,
          severity: hit.severity ?? (unchecked ? 'warn' : 'refuse'),
          problem: rule.problem,
          instead: rule.instead,
        });
      }
    }
  }
  return findings;
}

export function describeLintFinding(f: LintFinding): string {
  const verdict = `${f.severity === 'warn' ? 'warning' : 'refused'} (${f.rule}, ${f.direction})`;
  return `${f.file}:${f.line}:${f.column}: ${f.statement}\n    ${verdict}: ${f.problem}\n    instead: ${f.instead}`;
}
