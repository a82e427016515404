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
  const existed = (table: string) => original[`table ${table}`] !== undefined && !ignore.has(table);
  const constraintIndexes = new Set(
    Object.keys({ ...before, ...after })
      .filter((k) => k.startsWith('constraint '))
      .map((k) => {
        const parts = k.slice('constraint '.length).match(/"(?:[^"]|"")*"|[^."]+/g) ?? [];
        return `index ${parts[0]}.${parts[2]}`;
      }),
  );
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
  const { unexpected } = diffSchemas(before, after);
  for (const d of unexpected) {
    const key = parseKey(d.object);
    if (!key) continue;
    const change = describeDifference(d);
    const b = d.blue; // before
    const a = d.green; // after
    switch (key.kind) {
      case 'table':
        if (ignore.has(key.name)) break;
        if (a === undefined) add(d.object, change, 'drop-table');
        else if (b !== undefined) add(d.object, change, parseTableDef(a).core === parseTableDef(b).core ? 'partition' : 'persistence');
        break;
      case 'column': {
        const table = tableOf(key.name);
        if (!existed(table)) break;
        if (after[`table ${table}`] === undefined) break; // the table's own finding says it
        if (a === undefined) add(d.object, change, 'drop-column');
        else if (b === undefined) {
          const c = parseColumn(a);
          if (c.notNull && !a.includes(' default ') && !a.endsWith(' identity') && !a.endsWith(' generated'))
            add(d.object, change, 'add-not-null-column');
        } else {
          const x = parseColumn(b);
          const y = parseColumn(a);
          if (x.type !== y.type) add(d.object, change, 'change-type');
          else if (!x.notNull && y.notNull) add(d.object, change, 'set-not-null');
          else if (x.notNull && !y.notNull) add(d.object, change, 'drop-not-null');
        }
        break;
      }
      case 'constraint': {
        const table = tableOf(key.name);
        if (!existed(table) || after[`table ${table}`] === undefined) break;
        if (a === undefined)
          add(
            d.object,
            change,
            b!.startsWith('PRIMARY KEY') ? 'replica-identity' : b!.startsWith('FOREIGN KEY') ? 'drop-constraint' : 'drop-constraint',
          );
        else if (a.startsWith('CHECK')) add(d.object, change, 'add-check');
        else if (a.startsWith('UNIQUE') || a.startsWith('EXCLUDE')) add(d.object, change, 'add-unique');
        else if (a.startsWith('PRIMARY KEY')) add(d.object, change, 'replica-identity');
        else if (a.startsWith('FOREIGN KEY') && !a.includes('NOT VALID')) add(d.object, change, 'add-foreign-key');
        break;
      }
      case 'index': {
        if (constraintIndexes.has(d.object)) break; // reported with its constraint
        const table = indexTable(a ?? b ?? '');
        if (!table || !existed(table) || after[`table ${table}`] === undefined) break;
        if (isUniqueIndex(a) && !isUniqueIndex(b)) add(d.object, change, 'add-unique');
        else if (isUniqueIndex(b) && !isUniqueIndex(a)) add(d.object, change, 'drop-constraint');
        break;
      }
      case 'sequence':
        if (a === undefined && original[d.object] !== undefined) add(d.object, change, 'drop-sequence');
        break;
      case 'enum': {
        if (b === undefined || original[d.object] === undefined) break;
        const gone = enumLabels(b).filter((l) => a === undefined || !enumLabels(a).includes(l));
        if (gone.length || a === undefined) add(d.object, change, 'drop-type');
        else add(d.object, change, 'enum-value');
        break;
      }
      default:
        break; // triggers, views, settings: nothing replication reads
    }
  }
  const seen = new Set<string>();
  for (const c of dataChanges) {
    if (ignore.has(c.table) || !existed(c.table) || seen.has(`${c.table} ${c.operation}`)) continue;
    seen.add(`${c.table} ${c.operation}`);
    // A backfill: an UPDATE setting only columns green's migrations added.
    const had = new Set(
      Object.keys(original).flatMap((k) =>
        k.startsWith('column ') && tableOf(k.slice('column '.length)) === c.table ? [lastPart(k)] : [],
      ),
    );
    const backfill = c.operation === 'UPDATE' && !!c.columns?.length && c.columns.every((col) => !had.has(col));
    add(
      `table ${c.table}`,
      `${c.operation} on ${c.table}${c.statement ? `: ${c.statement.replace(/\s+/g, ' ').trim().slice(0, 100)}` : ''}`,
      backfill ? 'backfill' : 'data-change',
      backfill ? 'warn' : 'refuse',
    );
  }
  return out;
}

export function describeEffectFinding(f: EffectFinding): string {
  return `${f.change}\n    ${f.severity === 'warn' ? 'warning' : 'refused'} (${f.rule}, ${f.direction}): ${f.problem}\n    instead: ${f.instead}`;
}
