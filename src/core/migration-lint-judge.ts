/**
 * The migration lint's judge: which rules one parsed statement breaks, read off libpg-query's JSON
 * node, with the scope of what the migrations created earlier in the set (green's alone: free to change).
 */
import type { RuleId } from './migration-lint-rules.js';

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

export interface Scope {
  /** Tables, sequences and types created earlier in this set (green's alone). */
  readonly created: Set<string>;
  readonly temporary: Set<string>;
  /** Columns added to existing tables earlier in this set: `schema.table.column`. */
  readonly newColumns: Set<string>;
}

export type Hit = { rule: RuleId; severity?: 'warn' };

/** One statement being judged: its node and kind, its body, the scope, and the hits found so far. */
interface Judging {
  readonly kind: string;
  readonly node: Node;
  /** The statement's own fields (the node's single value). */
  readonly s: Node;
  readonly scope: Scope;
  readonly hits: Hit[];
  /** A table blue has too: neither created earlier in the set nor temporary. */
  existing(table: string): boolean;
}

/** INSERT, UPDATE, DELETE and MERGE anywhere in the statement, on tables blue writes. */
function dataChanges(j: Judging): void {
  const dml = findAll(j.node, new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']));
  for (const d of dml) {
    const table = tableName(get(d.node, 'relation'));
    if (!j.existing(table)) continue;
    if (d.kind === 'UpdateStmt') {
      const columns = list(get(d.node, 'targetList')).map((t) => get(get(t, 'ResTarget'), 'name') as string);
      if (columns.length && columns.every((c) => j.scope.newColumns.has(`${table}.${c}`))) {
        j.hits.push({ rule: 'backfill', severity: 'warn' });
        continue;
      }
    }
    j.hits.push({ rule: 'data-change' });
  }
}

function createTable(j: Judging): void {
  const { s, scope, hits } = j;
  const rel = j.kind === 'CreateStmt' ? get(s, 'relation') : get(get(s, 'into'), 'rel');
  const name = tableName(rel);
  if (get(rel, 'relpersistence') === 't') scope.temporary.add(get(rel, 'relname') as string);
  else scope.created.add(name);
  if (j.kind === 'CreateStmt' && get(s, 'partbound') && list(get(s, 'inhRelations')).some((r) => j.existing(tableName(get(r, 'RangeVar')))))
    hits.push({ rule: 'partition' });
  if (j.kind === 'CreateTableAsStmt') dataChanges(j);
}

function addColumn(j: Judging, table: string, def: unknown): void {
  const col = inner(def);
  const constraints = list(get(col, 'constraints')).map((x) => inner(x));
  const has = (t: string) => constraints.some((x) => get(x, 'contype') === t);
  j.scope.newColumns.add(`${table}.${get(col, 'colname') as string}`);
  if (has('CONSTR_NOTNULL') && !has('CONSTR_DEFAULT') && !has('CONSTR_GENERATED') && !has('CONSTR_IDENTITY'))
    j.hits.push({ rule: 'add-not-null-column' });
  if (has('CONSTR_UNIQUE') || has('CONSTR_PRIMARY') || has('CONSTR_EXCLUSION')) j.hits.push({ rule: 'add-unique' });
  if (has('CONSTR_CHECK')) j.hits.push({ rule: 'add-check' });
  if (constraints.some((x) => get(x, 'contype') === 'CONSTR_FOREIGN' && !get(x, 'skip_validation')))
    j.hits.push({ rule: 'add-foreign-key' });
}

function addConstraint(j: Judging, def: unknown): void {
  const con = inner(def);
  const type = get(con, 'contype');
  if (type === 'CONSTR_CHECK') j.hits.push({ rule: 'add-check' });
  else if (type === 'CONSTR_NOTNULL') j.hits.push({ rule: 'set-not-null' });
  else if (type === 'CONSTR_UNIQUE' || type === 'CONSTR_EXCLUSION') j.hits.push({ rule: 'add-unique' });
  else if (type === 'CONSTR_PRIMARY') j.hits.push({ rule: 'replica-identity' });
  else if (type === 'CONSTR_FOREIGN' && !get(con, 'skip_validation')) j.hits.push({ rule: 'add-foreign-key' });
}

/**
 * ALTER TABLE subcommands that break one rule whatever their details. The others not listed (defaults,
 * statistics, storage, triggers, validation, ownership) change nothing replication reads.
 */
const ALTER_TABLE_RULES: ReadonlyMap<string, RuleId> = new Map<string, RuleId>([
  ['AT_DropColumn', 'drop-column'],
  ['AT_AlterColumnType', 'change-type'],
  ['AT_SetNotNull', 'set-not-null'],
  ['AT_DropNotNull', 'drop-not-null'],
  ['AT_SetUnLogged', 'persistence'],
  ['AT_AttachPartition', 'partition'],
  ['AT_DetachPartition', 'partition'],
  ['AT_DetachPartitionFinalize', 'partition'],
  ['AT_ReplicaIdentity', 'replica-identity'],
]);

function alterTable(j: Judging): void {
  const table = tableName(get(j.s, 'relation'));
  if (!j.existing(table) || (get(j.s, 'objtype') && get(j.s, 'objtype') !== 'OBJECT_TABLE')) return;
  for (const c of list(get(j.s, 'cmds'))) {
    const cmd = inner(c);
    const subtype = get(cmd, 'subtype') as string;
    const rule = ALTER_TABLE_RULES.get(subtype);
    if (rule) j.hits.push({ rule });
    else if (subtype === 'AT_AddColumn') addColumn(j, table, get(cmd, 'def'));
    else if (subtype === 'AT_AddConstraint' || subtype === 'AT_AddIndexConstraint') addConstraint(j, get(cmd, 'def'));
    else if (subtype === 'AT_DropConstraint')
      j.hits.push({ rule: /_pkey$/.test((get(cmd, 'name') as string) ?? '') ? 'replica-identity' : 'drop-constraint' });
  }
}

function rename(j: Judging): void {
  const { s } = j;
  const type = get(s, 'renameType');
  if (type === 'OBJECT_COLUMN' && j.existing(tableName(get(s, 'relation')))) j.hits.push({ rule: 'rename-column' });
  else if ((type === 'OBJECT_TABLE' || type === 'OBJECT_VIEW') && j.existing(tableName(get(s, 'relation'))))
    j.hits.push({ rule: 'rename-table' });
  else if ((type === 'OBJECT_TYPE' || type === 'OBJECT_SCHEMA') && !j.scope.created.has(qualified(get(s, 'object'))))
    j.hits.push({ rule: 'drop-type' });
}

function drop(j: Judging): void {
  const { s } = j;
  const type = get(s, 'removeType');
  const names = list(get(s, 'objects')).map((o) => qualified(get(get(o, 'List'), 'items') ?? [o]));
  const old = names.filter((n) => j.existing(n));
  if (type === 'OBJECT_TABLE' && old.length) j.hits.push({ rule: 'drop-table' });
  else if (type === 'OBJECT_SEQUENCE' && old.length) j.hits.push({ rule: 'drop-sequence' });
  else if (type === 'OBJECT_TYPE' || type === 'OBJECT_DOMAIN') {
    const typeNames = list(get(s, 'objects')).map((o) => qualified(get(get(o, 'TypeName'), 'names')));
    if (typeNames.some((n) => !j.scope.created.has(n))) j.hits.push({ rule: 'drop-type' });
  } else if (type === 'OBJECT_SCHEMA') j.hits.push({ rule: 'drop-schema' });
}

/** A SELECT calling a function that is not plainly a query's (it may do anything), and any DML inside it. */
function select(j: Judging): void {
  const calls = findAll(j.node, new Set(['FuncCall'])).map((f) =>
    list(get(f.node, 'funcname')).map((p) => get(get(p, 'String'), 'sval') as string),
  );
  if (calls.some((parts) => !(parts.length === 1 || parts[0] === 'pg_catalog') || !PLAIN_FUNCTIONS.has(parts.at(-1)!)))
    j.hits.push({ rule: 'opaque' });
  dataChanges(j);
}

const opaque = (j: Judging) => void j.hits.push({ rule: 'opaque' });
const createType = (j: Judging) => void j.scope.created.add(qualified(get(j.s, 'typeName') ?? get(j.s, 'domainname')));

/** How each kind of statement is judged; a kind not listed breaks no rule. */
const BY_STATEMENT: ReadonlyMap<string, (j: Judging) => void> = new Map<string, (j: Judging) => void>([
  ['CreateStmt', createTable],
  ['CreateTableAsStmt', createTable],
  ['CreateSeqStmt', (j) => void j.scope.created.add(tableName(get(j.s, 'sequence')))],
  ['CreateEnumStmt', createType],
  ['CompositeTypeStmt', createType],
  ['CreateDomainStmt', createType],
  ['AlterTableStmt', alterTable],
  ['RenameStmt', rename],
  [
    'AlterObjectSchemaStmt',
    (j) => {
      if (get(j.s, 'objectType') === 'OBJECT_TABLE' && j.existing(tableName(get(j.s, 'relation')))) j.hits.push({ rule: 'rename-table' });
    },
  ],
  ['DropStmt', drop],
  [
    'IndexStmt',
    (j) => {
      if (get(j.s, 'unique') && j.existing(tableName(get(j.s, 'relation')))) j.hits.push({ rule: 'add-unique' });
    },
  ],
  [
    'AlterEnumStmt',
    (j) => {
      if (j.scope.created.has(qualified(get(j.s, 'typeName')))) return;
      j.hits.push(get(j.s, 'oldVal') ? { rule: 'drop-type' } : { rule: 'enum-value', severity: 'warn' });
    },
  ],
  [
    'TruncateStmt',
    (j) => {
      if (list(get(j.s, 'relations')).some((r) => j.existing(tableName(get(r, 'RangeVar'))))) j.hits.push({ rule: 'data-change' });
    },
  ],
  [
    'CopyStmt',
    (j) => {
      if (get(j.s, 'is_from') && get(j.s, 'relation') && j.existing(tableName(get(j.s, 'relation')))) j.hits.push({ rule: 'data-change' });
    },
  ],
  ['DoStmt', opaque],
  ['CallStmt', opaque],
  ['ExecuteStmt', opaque],
  ['SelectStmt', select],
  ['InsertStmt', dataChanges],
  ['UpdateStmt', dataChanges],
  ['DeleteStmt', dataChanges],
  ['MergeStmt', dataChanges],
]);

/** The rule hits of one statement, updating the scope with what it creates. */
export function judge(node: Node, scope: Scope): Hit[] {
  const existing = (table: string) =>
    !scope.created.has(table) && !scope.temporary.has(table) && !scope.temporary.has(table.replace(/^public\./, ''));
  const j: Judging = { kind: kind(node)!, node, s: inner(node), scope, hits: [], existing };
  BY_STATEMENT.get(j.kind)?.(j);
  return j.hits;
}
