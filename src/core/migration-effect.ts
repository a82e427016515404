/**
 * The effect check's verdict, pure: the schema of a scratch copy of green before and after the
 * pending migrations ran (by the built-in runner or any external tool), and the data changes seen
 * there, judged by the lint's own model (src/core/migration-lint.ts). It sees what no parser can:
 * ORMs, Flyway, Liquibase, Alembic, DO blocks, dynamic SQL.
 */
import { RULES, type Direction, type RuleId } from './migration-lint-rules.js';
import { describeDifference, diffSchemas, enumLabels, type SchemaSnapshot } from './schema-diff.js';
import { indexTable, lastPart, parseColumn, parseKey, parseTableDef, tableOf } from './snapshot-keys.js';

export interface EffectFinding {
  /** The schema object as readSchema names it, or the table a data change touched. */
  readonly object: string;
  /** The difference as an operator reads it (`- column public.users.name: text`). */
  readonly change: string;
  readonly rule: RuleId;
  readonly direction: Direction;
  readonly severity: 'refuse' | 'warn';
  readonly problem: string;
  readonly instead: string;
}

/** A statement-level data change the scratch copy recorded on a table that existed before. */
export interface DataChange {
  readonly table: string;
  readonly operation: string;
  /** The statement that made it, as the server saw it (a DO block's text for dynamic SQL). */
  readonly statement?: string;
  /** For an UPDATE whose statement could be read: the columns it sets. */
  readonly columns?: ReadonlyArray<string>;
}

const isUniqueIndex = (def?: string) => !!def && def.startsWith('CREATE UNIQUE INDEX');

/** What the rules below read: the snapshots, what the run may change freely, and the constraints' own indexes. */
interface EffectContext {
  readonly after: SchemaSnapshot;
  /** Green as it is: what existed before the run. */
  readonly original: SchemaSnapshot;
  readonly ignore: ReadonlySet<string>;
  /** A table green had before the run and the migration tool does not keep its bookkeeping in. */
  existed(table: string): boolean;
  /** `index schema.name` of each constraint's index: reported with its constraint. */
  readonly constraintIndexes: ReadonlySet<string>;
}

/** One schema object that changed: its name, its key, and its definition before and after (undefined: absent). */
interface Changed {
  readonly name: string;
  readonly object: string;
  readonly before: string | undefined;
  readonly after: string | undefined;
}

type DifferenceRule = (c: EffectContext, d: Changed) => RuleId | undefined;

const tableRule: DifferenceRule = (c, { name, before: b, after: a }) => {
  if (c.ignore.has(name)) return undefined;
  if (a === undefined) return 'drop-table';
  if (b !== undefined) return parseTableDef(a).core === parseTableDef(b).core ? 'partition' : 'persistence';
  return undefined;
};

const columnRule: DifferenceRule = (c, { name, before: b, after: a }) => {
  const table = tableOf(name);
  if (!c.existed(table)) return undefined;
  if (c.after[`table ${table}`] === undefined) return undefined; // the table's own finding says it
  if (a === undefined) return 'drop-column';
  if (b === undefined) {
    const col = parseColumn(a);
    const needsValue = col.notNull && !a.includes(' default ') && !a.endsWith(' identity') && !a.endsWith(' generated');
    return needsValue ? 'add-not-null-column' : undefined;
  }
  const x = parseColumn(b);
  const y = parseColumn(a);
  if (x.type !== y.type) return 'change-type';
  if (!x.notNull && y.notNull) return 'set-not-null';
  if (x.notNull && !y.notNull) return 'drop-not-null';
  return undefined;
};

const constraintRule: DifferenceRule = (c, { name, before: b, after: a }) => {
  const table = tableOf(name);
  if (!c.existed(table) || c.after[`table ${table}`] === undefined) return undefined;
  if (a === undefined)
    return b!.startsWith('PRIMARY KEY') ? 'replica-identity' : b!.startsWith('FOREIGN KEY') ? 'drop-constraint' : 'drop-constraint';
  if (a.startsWith('CHECK')) return 'add-check';
  if (a.startsWith('UNIQUE') || a.startsWith('EXCLUDE')) return 'add-unique';
  if (a.startsWith('PRIMARY KEY')) return 'replica-identity';
  if (a.startsWith('FOREIGN KEY') && !a.includes('NOT VALID')) return 'add-foreign-key';
  return undefined;
};

const indexRule: DifferenceRule = (c, { object, before: b, after: a }) => {
  if (c.constraintIndexes.has(object)) return undefined; // reported with its constraint
  const table = indexTable(a ?? b ?? '');
  if (!table || !c.existed(table) || c.after[`table ${table}`] === undefined) return undefined;
  if (isUniqueIndex(a) && !isUniqueIndex(b)) return 'add-unique';
  if (isUniqueIndex(b) && !isUniqueIndex(a)) return 'drop-constraint';
  return undefined;
};

const sequenceRule: DifferenceRule = (c, { object, after: a }) =>
  a === undefined && c.original[object] !== undefined ? 'drop-sequence' : undefined;

const enumRule: DifferenceRule = (c, { object, before: b, after: a }) => {
  if (b === undefined || c.original[object] === undefined) return undefined;
  const gone = enumLabels(b).filter((l) => a === undefined || !enumLabels(a).includes(l));
  return gone.length || a === undefined ? 'drop-type' : 'enum-value';
};

/** The rule a changed object of each kind may break; other kinds (triggers, views, settings) are nothing replication reads. */
const BY_KIND: ReadonlyMap<string, DifferenceRule> = new Map([
  ['table', tableRule],
  ['column', columnRule],
  ['constraint', constraintRule],
  ['index', indexRule],
  ['sequence', sequenceRule],
  ['enum', enumRule],
]);

/** Each data change on a table that existed, once per table and operation: a backfill, or a data change. */
function dataChangeFindings(
  c: EffectContext,
  dataChanges: ReadonlyArray<DataChange>,
): Array<{ object: string; change: string; rule: RuleId; severity: 'refuse' | 'warn' }> {
  const out: Array<{ object: string; change: string; rule: RuleId; severity: 'refuse' | 'warn' }> = [];
  const seen = new Set<string>();
  for (const d of dataChanges) {
    if (c.ignore.has(d.table) || !c.existed(d.table) || seen.has(`${d.table} ${d.operation}`)) continue;
    seen.add(`${d.table} ${d.operation}`);
    // A backfill: an UPDATE setting only columns green's migrations added.
    const had = new Set(
      Object.keys(c.original).flatMap((k) =>
        k.startsWith('column ') && tableOf(k.slice('column '.length)) === d.table ? [lastPart(k)] : [],
      ),
    );
    const backfill = d.operation === 'UPDATE' && !!d.columns?.length && d.columns.every((col) => !had.has(col));
    out.push({
      object: `table ${d.table}`,
      change: `${d.operation} on ${d.table}${d.statement ? `: ${d.statement.replace(/\s+/g, ' ').trim().slice(0, 100)}` : ''}`,
      rule: backfill ? 'backfill' : 'data-change',
      severity: backfill ? 'warn' : 'refuse',
    });
  }
  return out;
}

/**
 * @param before the scratch copy before the run (green as it is)
 * @param after the scratch copy after it
 * @param dataChanges INSERT/UPDATE of existing columns/DELETE/TRUNCATE on tables that existed before
 * @param ignore tables the migration tool keeps its own bookkeeping in
 */
export function judgeEffect(
  before: SchemaSnapshot,
  after: SchemaSnapshot,
  dataChanges: ReadonlyArray<DataChange>,
  ignore: ReadonlySet<string> = new Set(),
  /** Green as it is, when `before` is a later point of the same run: what the run created is free. */
  original: SchemaSnapshot = before,
): EffectFinding[] {
  const out: EffectFinding[] = [];
  const constraintIndexes = new Set(
    Object.keys({ ...before, ...after })
      .filter((k) => k.startsWith('constraint '))
      .map((k) => {
        const parts = k.slice('constraint '.length).match(/"(?:[^"]|"")*"|[^."]+/g) ?? [];
        return `index ${parts[0]}.${parts[2]}`;
      }),
  );
  const c: EffectContext = {
    after,
    original,
    ignore,
    existed: (table) => original[`table ${table}`] !== undefined && !ignore.has(table),
    constraintIndexes,
  };
  const add = (object: string, change: string, rule: RuleId, severity: 'refuse' | 'warn' = 'refuse') =>
    out.push({
      object,
      change,
      rule,
      direction: RULES[rule].direction,
      severity: rule === 'enum-value' ? 'warn' : severity,
      problem: RULES[rule].problem,
      instead: RULES[rule].instead,
    });
  for (const d of diffSchemas(before, after).unexpected) {
    const key = parseKey(d.object);
    if (!key) continue;
    // diffSchemas names its sides blue and green: here they are before and after the run.
    const rule = BY_KIND.get(key.kind)?.(c, { name: key.name, object: d.object, before: d.blue, after: d.green });
    if (rule) add(d.object, describeDifference(d), rule);
  }
  for (const f of dataChangeFindings(c, dataChanges)) add(f.object, f.change, f.rule, f.severity);
  return out;
}

export function describeEffectFinding(f: EffectFinding): string {
  const verdict = `${f.severity === 'warn' ? 'warning' : 'refused'} (${f.rule}, ${f.direction})`;
  return `${f.change}\n    ${verdict}: ${f.problem}\n    instead: ${f.instead}`;
}
