/**
 * Schema comparison. A schema is a flat map from an object key (`column public.orders.price`) to a
 * readable definition. Differences are split into those the migrations explain (green changed since
 * the clone, blue did not) and unexpected ones, each with a reason that is only ever what the
 * evidence shows: green's own snapshots (at the clone, after the migrations) for green, blue's DDL
 * log for blue. Green's snapshot at the clone is a restore of blue, not blue itself, so a difference
 * between it and blue is not by itself proof that blue changed.
 */
import { type DdlLogEntry, entriesTouching, visibleToDdlLog } from './ddl-evidence.js';

export type SchemaSnapshot = Readonly<Record<string, string>>;

export interface SchemaDifference {
  readonly object: string;
  readonly kind: 'only-on-blue' | 'only-on-green' | 'changed';
  readonly blue?: string;
  readonly green?: string;
  /** Why it is expected or not, in a few words. */
  readonly reason: string;
  /** The entries of blue's DDL log since the clone that changed this object (the evidence for "DDL on blue"). */
  readonly ddlOnBlue?: ReadonlyArray<DdlLogEntry>;
}

/**
 * A table whose columns are in another order on green than on blue (pg_dump restores an inheritance
 * child's columns in its parent's order): not a difference in what it holds, but in what `SELECT *`
 * returns and in what `INSERT`/`COPY` without a column list expect.
 */
export interface ColumnOrderDifference {
  readonly table: string;
  readonly blue: ReadonlyArray<string>;
  readonly green: ReadonlyArray<string>;
  /** What the order changes, for the operator. */
  readonly affects: string;
}

export interface SchemaDiff {
  readonly expected: ReadonlyArray<SchemaDifference>;
  readonly unexpected: ReadonlyArray<SchemaDifference>;
  /** Warnings, never failures: tables whose columns both sides have come in another order. */
  readonly columnOrder?: ReadonlyArray<ColumnOrderDifference>;
}

export const BLUE_DDL_REASON = 'blue changed since the clone (DDL on blue)';
/** Blue keeps no DDL log (or the object is one event triggers cannot see): its schema at the clone is the only witness. */
export const BLUE_SNAPSHOT_REASON =
  'blue changed since the clone (DDL on blue, seen in the schema recorded at the clone; no DDL log records it)';
export const UNEXPLAINED_REASON = "differs from blue; not explained by the DDL log or blue's schema at the clone";

/**
 * @param blue blue now
 * @param green green now
 * @param greenAtClone green right after the clone (a restore of blue at that moment); undefined when unknown
 * @param greenAfterMigrations green right after the last migrate run (defaults to greenAtClone: no migrations)
 * @param blueDdl blue's DDL log since the clone; undefined when blue keeps none
 */
export function diffSchemas(
  blue: SchemaSnapshot,
  green: SchemaSnapshot,
  greenAtClone?: SchemaSnapshot,
  greenAfterMigrations = greenAtClone,
  blueDdl?: ReadonlyArray<DdlLogEntry>,
): SchemaDiff {
  const expected: SchemaDifference[] = [];
  const unexpected: SchemaDifference[] = [];
  const keys = [...new Set([...Object.keys(blue), ...Object.keys(green)])].sort();
  for (const object of keys) {
    const b = blue[object];
    const g = green[object];
    if (b === g) continue;
    const kind = b === undefined ? 'only-on-green' : g === undefined ? 'only-on-blue' : 'changed';
    const difference = { object, kind, blue: b, green: g } as const;
    if (!greenAtClone) {
      unexpected.push({ ...difference, reason: 'no schema recorded at clone time to tell migrations apart' });
      continue;
    }
    const atClone = greenAtClone[object];
    const byMigrations = greenAfterMigrations?.[object];
    const logged = blueDdl ? entriesTouching(object, b ?? g, blueDdl) : [];
    if (logged.length) {
      unexpected.push({ ...difference, reason: BLUE_DDL_REASON, ddlOnBlue: logged });
    } else if (atClone === b && byMigrations !== atClone && byMigrations === g) {
      expected.push({ ...difference, reason: 'changed on green by migrations' });
    } else if (atClone === b) {
      // Blue is as the clone left green, so green is the side that moved, and not by the migrations.
      unexpected.push({ ...difference, reason: 'changed on green outside the migrations' });
    } else if (atClone === g && (!blueDdl || !visibleToDdlLog(object))) {
      unexpected.push({ ...difference, reason: BLUE_SNAPSHOT_REASON });
    } else {
      unexpected.push({ ...difference, reason: UNEXPLAINED_REASON });
    }
  }
  return { expected, unexpected };
}

/** The snapshot without the entries named (PostgreSQL-derived objects): what `diffSchemas` should compare. */
export function withoutKeys(snapshot: SchemaSnapshot, keys: ReadonlySet<string>): SchemaSnapshot {
  return Object.fromEntries(Object.entries(snapshot).filter(([key]) => !keys.has(key)));
}

export const COLUMN_ORDER_AFFECTS =
  'SELECT * returns the columns in another order, and INSERT or COPY without a column list expects them in it';

/**
 * Tables (by display name) whose columns both sides have are in another order on green, with each
 * side's whole order. Columns one side lacks (added by migrations) do not count: only the relative
 * order of the shared ones can surprise an application.
 */
export function columnOrderDifferences(
  blue: ReadonlyMap<string, ReadonlyArray<string>>,
  green: ReadonlyMap<string, ReadonlyArray<string>>,
): ColumnOrderDifference[] {
  const out: ColumnOrderDifference[] = [];
  for (const [table, blueColumns] of [...blue].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const greenColumns = green.get(table);
    if (!greenColumns) continue;
    const shared = (mine: ReadonlyArray<string>, theirs: ReadonlyArray<string>) => mine.filter((c) => theirs.includes(c));
    const onBlue = shared(blueColumns, greenColumns);
    const onGreen = shared(greenColumns, blueColumns);
    if (onBlue.some((c, i) => c !== onGreen[i])) out.push({ table, blue: blueColumns, green: greenColumns, affects: COLUMN_ORDER_AFFECTS });
  }
  return out;
}

/** The `+ … / - … / ~ …` line an operator reads for one difference. */
export function describeDifference(d: SchemaDifference): string {
  switch (d.kind) {
    case 'only-on-green':
      return `+ ${d.object}: ${d.green}`;
    case 'only-on-blue':
      return `- ${d.object}: ${d.blue}`;
    default:
      return `~ ${d.object}: ${d.blue} → ${d.green}`;
  }
}

/** How an enum type reads in a snapshot: its labels in sort order, as JSON (labels may hold any character). */
export function enumDefinition(labels: ReadonlyArray<string>): string {
  return `enum ${JSON.stringify(labels)}`;
}

/** The labels of an enum definition written by `enumDefinition`. */
export function enumLabels(definition: string): string[] {
  return definition.startsWith('enum ') ? (JSON.parse(definition.slice('enum '.length)) as string[]) : [];
}
