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
 * function called for its effects). Each rule below names the direction it protects. Objects created
 * earlier in the same set, and temporary ones, are green's alone: changes to them are free.
 */
import { lineAndColumn } from './migrations.js';

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

export type Direction = 'forward' | 'reverse' | 'identity' | 'data' | 'opaque';

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

/** What each rule protects, in the operator's words; the README's rule table is this list. */
export const RULES = {
  'drop-table': {
    direction: 'identity',
    problem: 'drops a table blue still writes to: replication into green stops',
    instead: 'stop using the table now; drop it in a later cutover, once this one is finalized (contract phase)',
  },
  'drop-column': {
    direction: 'identity',
    problem: "drops a column blue still writes: replicated rows would not fit, and a rollback could not carry green's rows back",
    instead: 'keep the column and stop writing it; drop it in a later cutover (contract phase)',
  },
  'rename-column': {
    direction: 'identity',
    problem: 'renames a column: blue keeps sending the old name',
    instead: 'add the new column, write both, backfill, move reads, and drop the old one in a later cutover',
  },
  'rename-table': {
    direction: 'identity',
    problem: 'renames a table (or moves it to another schema): blue keeps sending the old name',
    instead: 'create the new table alongside, move the application, drop the old one in a later cutover',
  },
  'change-type': {
    direction: 'forward',
    problem: "changes a column's type: blue's values may not convert, and a rollback sends the new type's values to blue",
    instead: 'add a column of the new type, backfill it, switch over, and drop the old one in a later cutover',
  },
  'set-not-null': {
    direction: 'forward',
    problem: 'makes an existing column NOT NULL: a NULL written on blue would stop replication',
    instead: 'enforce it in the application now, and SET NOT NULL in a later cutover',
  },
  'add-not-null-column': {
    direction: 'forward',
    problem: 'adds a NOT NULL column without a default: rows replicated from blue have no value for it',
    instead: 'give it a DEFAULT, or add it nullable and backfill',
  },
  'add-check': {
    direction: 'forward',
    problem:
      'adds a CHECK blue does not enforce: green checks every replicated row against it (NOT VALID too), so a row blue accepts can stop replication',
    instead: 'enforce it in the application now, and add the CHECK in a later cutover',
  },
  'add-unique': {
    direction: 'forward',
    problem:
      'adds a uniqueness (UNIQUE, PRIMARY KEY, EXCLUDE or a unique index) blue does not enforce: a duplicate written on blue stops replication',
    instead: 'create it in a later cutover, once blue no longer writes',
  },
  'add-foreign-key': {
    direction: 'forward',
    problem:
      'adds a validated foreign key: replicated rows are not checked against it, so green could hold rows that break a constraint it calls valid',
    instead: 'add it NOT VALID now, and VALIDATE CONSTRAINT after the cutover',
  },
  'drop-not-null': {
    direction: 'reverse',
    problem: 'drops NOT NULL: green may then write NULLs blue refuses, and a rollback stops at the first one',
    instead: 'keep NOT NULL until the cutover is finalized, then drop it',
  },
  'drop-constraint': {
    direction: 'reverse',
    problem: 'drops a constraint blue still enforces: green may then write rows blue refuses, and a rollback stops at the first one',
    instead: 'drop it in a later cutover, once this one is finalized',
  },
  persistence: {
    direction: 'identity',
    problem: 'makes a table unlogged: unlogged tables are not replicated at all',
    instead: 'keep it logged; change it in a later cutover or in freeze mode',
  },
  partition: {
    direction: 'identity',
    problem: "attaches or detaches a partition: rows blue writes are routed by its partitioning, not green's",
    instead: 'change partitioning in freeze mode, or in a later cutover',
  },
  'replica-identity': {
    direction: 'identity',
    problem: 'changes how rows are identified for replication (replica identity or primary key)',
    instead: 'make this change in a later cutover, or in freeze mode',
  },
  'drop-sequence': {
    direction: 'identity',
    problem: "drops a sequence blue's tables may use: the switchover syncs every sequence from blue",
    instead: 'drop it in a later cutover, once this one is finalized',
  },
  'drop-type': {
    direction: 'identity',
    problem: 'drops or renames a type, schema or enum value blue still uses: replicated values would not fit',
    instead: 'add the new one alongside; drop the old one in a later cutover',
  },
  'enum-value': {
    direction: 'reverse',
    problem: 'adds an enum value green may write and blue cannot read yet',
    instead: 'nothing to do: sync-schema carries the value to blue before a rollback (every flip runs it)',
  },
  'data-change': {
    direction: 'data',
    problem: 'changes rows of a table blue writes: green would differ from blue (and INSERTs collide with ids blue hands out)',
    instead: 'make data fixes after the switchover, on the side that serves',
  },
  backfill: {
    direction: 'data',
    problem: 'backfills a column only green has: rows blue writes until the switchover get its default, not this value',
    instead: 'run the backfill again after the switchover (it is safe to repeat), or give the column a DEFAULT',
  },
  opaque: {
    direction: 'opaque',
    problem: 'runs code no reader can see into (a DO block, EXECUTE, CALL, or a function called for its effects)',
    instead:
      'write the statements out, or mark the file `-- bluegreen:unchecked <reason>` to take responsibility (recorded in the migration history): its effect is still checked on a scratch copy of green first',
  },
  'drop-schema': {
    direction: 'identity',
    problem: 'drops a schema blue still uses',
    instead: 'drop it in a later cutover (contract phase)',
  },
} as const satisfies Record<string, { direction: Direction; problem: string; instead: string }>;

export type RuleId = keyof typeof RULES;

/** `-- bluegreen:unchecked <reason>`: the file's author takes responsibility; its refusals become warnings. */
export function uncheckedReason(sql: string): string | undefined {
  const m = /^\s*--\s*bluegreen:unchecked\b[ \t]*(.*)$/m.exec(sql);
  return m ? m[1].trim() || '(no reason given)' : undefined;
}

type Node = Readonly<Record<string, unknown>>;
const get = (n: unknown, key: string): unknown => (n && typeof n === 'object' ? (n as Node)[key] : undefined);
const list = (n: unknown): Node[] => (Array.isArray(n) ? (n as Node[]) : []);
const kind = (n: unknown): string | undefined => (n && typeof n === 'object' ? Object.keys(n as Node)[0] : undefined);
const inner = (n: unknown): Node => (get(n, kind(n) ?? '') as Node) ?? {};

/** `schema.table` from a RangeVar; `public` when the statement names none. */
function tableName(rangeVar: unknown): string {
  const schema = (get(rangeVar, 'schemaname') as string | undefined) ?? 'public';
  return `${schema}.${get(rangeVar, 'relname') as string}`;
}

/** `schema.name` from a name list (`[{String: {sval}}]`), as DROP and ALTER TYPE give them. */
function qualified(names: unknown): string {
  const parts = list(names).map((p) => get(get(p, 'String'), 'sval') as string);
  return parts.length === 1 ? `public.${parts[0]}` : parts.slice(-2).join('.');
}

/** Every node of a kind under `n` (CTEs, subqueries, …): a DELETE inside a WITH is still a DELETE. */
function findAll(
  n: unknown,
  want: ReadonlySet<string>,
  out: Array<{ kind: string; node: Node }> = [],
): Array<{ kind: string; node: Node }> {
  if (Array.isArray(n)) for (const x of n) findAll(x, want, out);
  else if (n && typeof n === 'object') {
    for (const [k, v] of Object.entries(n as Node)) {
      if (want.has(k)) out.push({ kind: k, node: v as Node });
      findAll(v, want, out);
    }
  }
  return out;
}

/** Functions a migration may call in a SELECT without hiding what it does. */
const PLAIN_FUNCTIONS = new Set([
  'set_config',
  'current_setting',
  'now',
  'current_timestamp',
  'version',
  'pg_sleep',
  'count',
  'sum',
  'max',
  'min',
  'coalesce',
  'lower',
  'upper',
  'format',
  'concat',
  'length',
  'pg_advisory_xact_lock',
  'pg_try_advisory_xact_lock',
]);

interface Scope {
  /** Tables, sequences and types created earlier in this set (green's alone). */
  readonly created: Set<string>;
  readonly temporary: Set<string>;
  /** Columns added to existing tables earlier in this set: `schema.table.column`. */
  readonly newColumns: Set<string>;
}

type Hit = { rule: RuleId; severity?: 'warn' };

/** The rule hits of one statement, updating the scope with what it creates. */
function judge(node: Node, scope: Scope): Hit[] {
  const k = kind(node)!;
  const s = inner(node);
  const existing = (table: string) =>
    !scope.created.has(table) && !scope.temporary.has(table) && !scope.temporary.has(table.replace(/^public\./, ''));
  const hits: Hit[] = [];
  const dataChanges = () => {
    const dml = findAll(node, new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']));
    for (const d of dml) {
      const table = tableName(get(d.node, 'relation'));
      if (!existing(table)) continue;
      if (d.kind === 'UpdateStmt') {
        const columns = list(get(d.node, 'targetList')).map((t) => get(get(t, 'ResTarget'), 'name') as string);
        if (columns.length && columns.every((c) => scope.newColumns.has(`${table}.${c}`))) {
          hits.push({ rule: 'backfill', severity: 'warn' });
          continue;
        }
      }
      hits.push({ rule: 'data-change' });
    }
  };
  switch (k) {
    case 'CreateStmt':
    case 'CreateTableAsStmt': {
      const rel = k === 'CreateStmt' ? get(s, 'relation') : get(get(s, 'into'), 'rel');
      const name = tableName(rel);
      if (get(rel, 'relpersistence') === 't') scope.temporary.add(get(rel, 'relname') as string);
      else scope.created.add(name);
      if (k === 'CreateStmt' && get(s, 'partbound') && list(get(s, 'inhRelations')).some((r) => existing(tableName(get(r, 'RangeVar')))))
        hits.push({ rule: 'partition' });
      if (k === 'CreateTableAsStmt') dataChanges();
      break;
    }
    case 'CreateSeqStmt':
      scope.created.add(tableName(get(s, 'sequence')));
      break;
    case 'CreateEnumStmt':
    case 'CompositeTypeStmt':
    case 'CreateDomainStmt':
      scope.created.add(qualified(get(s, 'typeName') ?? get(s, 'domainname')));
      break;
    case 'AlterTableStmt': {
      const table = tableName(get(s, 'relation'));
      if (!existing(table) || (get(s, 'objtype') && get(s, 'objtype') !== 'OBJECT_TABLE')) break;
      for (const c of list(get(s, 'cmds'))) {
        const cmd = inner(c);
        const def = get(cmd, 'def');
        switch (get(cmd, 'subtype')) {
          case 'AT_AddColumn': {
            const col = inner(def);
            const constraints = list(get(col, 'constraints')).map((x) => inner(x));
            const has = (t: string) => constraints.some((x) => get(x, 'contype') === t);
            scope.newColumns.add(`${table}.${get(col, 'colname') as string}`);
            if (has('CONSTR_NOTNULL') && !has('CONSTR_DEFAULT') && !has('CONSTR_GENERATED') && !has('CONSTR_IDENTITY'))
              hits.push({ rule: 'add-not-null-column' });
            if (has('CONSTR_UNIQUE') || has('CONSTR_PRIMARY') || has('CONSTR_EXCLUSION')) hits.push({ rule: 'add-unique' });
            if (has('CONSTR_CHECK')) hits.push({ rule: 'add-check' });
            if (constraints.some((x) => get(x, 'contype') === 'CONSTR_FOREIGN' && !get(x, 'skip_validation')))
              hits.push({ rule: 'add-foreign-key' });
            break;
          }
          case 'AT_DropColumn':
            hits.push({ rule: 'drop-column' });
            break;
          case 'AT_AlterColumnType':
            hits.push({ rule: 'change-type' });
            break;
          case 'AT_SetNotNull':
            hits.push({ rule: 'set-not-null' });
            break;
          case 'AT_DropNotNull':
            hits.push({ rule: 'drop-not-null' });
            break;
          case 'AT_AddConstraint':
          case 'AT_AddIndexConstraint': {
            const con = inner(def);
            const type = get(con, 'contype');
            if (type === 'CONSTR_CHECK') hits.push({ rule: 'add-check' });
            else if (type === 'CONSTR_NOTNULL') hits.push({ rule: 'set-not-null' });
            else if (type === 'CONSTR_UNIQUE' || type === 'CONSTR_EXCLUSION') hits.push({ rule: 'add-unique' });
            else if (type === 'CONSTR_PRIMARY') hits.push({ rule: 'replica-identity' });
            else if (type === 'CONSTR_FOREIGN' && !get(con, 'skip_validation')) hits.push({ rule: 'add-foreign-key' });
            break;
          }
          case 'AT_DropConstraint':
            hits.push({ rule: /_pkey$/.test((get(cmd, 'name') as string) ?? '') ? 'replica-identity' : 'drop-constraint' });
            break;
          case 'AT_SetUnLogged':
            hits.push({ rule: 'persistence' });
            break;
          case 'AT_AttachPartition':
          case 'AT_DetachPartition':
          case 'AT_DetachPartitionFinalize':
            hits.push({ rule: 'partition' });
            break;
          case 'AT_ReplicaIdentity':
            hits.push({ rule: 'replica-identity' });
            break;
          default:
            break; // defaults, statistics, storage, triggers, validation, ownership: nothing replication reads
        }
      }
      break;
    }
    case 'RenameStmt': {
      const type = get(s, 'renameType');
      if (type === 'OBJECT_COLUMN' && existing(tableName(get(s, 'relation')))) hits.push({ rule: 'rename-column' });
      else if ((type === 'OBJECT_TABLE' || type === 'OBJECT_VIEW') && existing(tableName(get(s, 'relation'))))
        hits.push({ rule: 'rename-table' });
      else if ((type === 'OBJECT_TYPE' || type === 'OBJECT_SCHEMA') && !scope.created.has(qualified(get(s, 'object'))))
        hits.push({ rule: 'drop-type' });
      break;
    }
    case 'AlterObjectSchemaStmt':
      if (get(s, 'objectType') === 'OBJECT_TABLE' && existing(tableName(get(s, 'relation')))) hits.push({ rule: 'rename-table' });
      break;
    case 'DropStmt': {
      const type = get(s, 'removeType');
      const names = list(get(s, 'objects')).map((o) => qualified(get(get(o, 'List'), 'items') ?? [o]));
      const old = names.filter((n) => existing(n));
      if (type === 'OBJECT_TABLE' && old.length) hits.push({ rule: 'drop-table' });
      else if (type === 'OBJECT_SEQUENCE' && old.length) hits.push({ rule: 'drop-sequence' });
      else if (type === 'OBJECT_TYPE' || type === 'OBJECT_DOMAIN') {
        const typeNames = list(get(s, 'objects')).map((o) => qualified(get(get(o, 'TypeName'), 'names')));
        if (typeNames.some((n) => !scope.created.has(n))) hits.push({ rule: 'drop-type' });
      } else if (type === 'OBJECT_SCHEMA') hits.push({ rule: 'drop-schema' });
      break;
    }
    case 'IndexStmt':
      if (get(s, 'unique') && existing(tableName(get(s, 'relation')))) hits.push({ rule: 'add-unique' });
      break;
    case 'AlterEnumStmt':
      if (scope.created.has(qualified(get(s, 'typeName')))) break;
      hits.push(get(s, 'oldVal') ? { rule: 'drop-type' } : { rule: 'enum-value', severity: 'warn' });
      break;
    case 'TruncateStmt':
      if (list(get(s, 'relations')).some((r) => existing(tableName(get(r, 'RangeVar'))))) hits.push({ rule: 'data-change' });
      break;
    case 'CopyStmt':
      if (get(s, 'is_from') && get(s, 'relation') && existing(tableName(get(s, 'relation')))) hits.push({ rule: 'data-change' });
      break;
    case 'DoStmt':
    case 'CallStmt':
    case 'ExecuteStmt':
      hits.push({ rule: 'opaque' });
      break;
    case 'SelectStmt': {
      const calls = findAll(node, new Set(['FuncCall'])).map((f) =>
        list(get(f.node, 'funcname')).map((p) => get(get(p, 'String'), 'sval') as string),
      );
      if (calls.some((parts) => !(parts.length === 1 || parts[0] === 'pg_catalog') || !PLAIN_FUNCTIONS.has(parts.at(-1)!)))
        hits.push({ rule: 'opaque' });
      dataChanges();
      break;
    }
    case 'InsertStmt':
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'MergeStmt':
      dataChanges();
      break;
    default:
      break;
  }
  return hits;
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
  return `${f.file}:${f.line}:${f.column}: ${f.statement}\n    ${f.severity === 'warn' ? 'warning' : 'refused'} (${f.rule}, ${f.direction}): ${f.problem}\n    instead: ${f.instead}`;
}
