/** The result of `compare`: per-table row counts, the schema diff and integrity findings, and the verdict. */
import type { SchemaDiff } from './schema-diff.js';

/**
 * `in-flight`: replicate mode, some rows kept changing on the serving side while they were read, and
 * no row differed once it held still: nothing to report. `differs` is only ever a real difference.
 */
export type TableStatus = 'ok' | 'differs' | 'missing-on-green' | 'new-on-green' | 'written-since-switchover' | 'in-flight' | 'stale';

export interface TableComparison {
  readonly table: string;
  readonly blueRows: number | null;
  readonly greenRows: number | null;
  readonly status: TableStatus;
  /** How the content was compared: row by row under the key, or as a multiset (no key). */
  readonly method?: 'key' | 'multiset' | 'count';
  /** Key-range hashes computed (the whole table is one). */
  readonly chunks?: number;
  readonly ms?: number;
  /** Rows that differ, by key, with which side lacks them or which columns differ (up to a limit). */
  readonly differences?: ReadonlyArray<{
    readonly key: Readonly<Record<string, string>>;
    readonly kind: 'missing-on-green' | 'missing-on-blue' | 'differs';
    readonly columns?: ReadonlyArray<string>;
  }>;
  /** More rows differ than are listed. */
  readonly truncated?: boolean;
  /** Columns left out of the content comparison, and why. */
  readonly excludedColumns?: ReadonlyArray<{ readonly name: string; readonly reason: string }>;
  /** Rows still changing on the serving side while read (in flight, not differences). */
  readonly unsettled?: number;
  /** A materialized view (compared as a multiset of its rows). */
  readonly materializedView?: boolean;
  /** `stale`: the standby's copy of the view is as of this time (its last refresh: the last flip, or the clone). */
  readonly staleSince?: string;
}

export interface IntegrityFinding {
  readonly check: 'invalid-constraint' | 'invalid-index' | 'foreign-key-orphans' | 'sequence-behind' | 'collation-version';
  readonly object: string;
  readonly detail: string;
  readonly severity: 'fail' | 'warn';
}

export interface CompareResult {
  readonly ok: boolean;
  readonly tables: ReadonlyArray<TableComparison>;
  readonly schema: SchemaDiff;
  readonly integrity: ReadonlyArray<IntegrityFinding>;
  readonly ms: number;
  /** Rows hashed on both sides, and the tables' size on both sides, for the throughput line. */
  readonly rowsCompared: number;
  readonly bytesCompared: number;
  /** Where the time went: content verification, the schema diff, integrity checks. */
  readonly phasesMs: { readonly content: number; readonly schema: number; readonly integrity: number };
}

/** Whether the comparison allows a switchover: no row difference, no unexpected schema change, no failed check. */
export function verdict(tables: ReadonlyArray<TableComparison>, schema: SchemaDiff, integrity: ReadonlyArray<IntegrityFinding>): boolean {
  return (
    tables.every((t) => t.status !== 'differs' && t.status !== 'missing-on-green') &&
    schema.unexpected.length === 0 &&
    integrity.every((f) => f.severity !== 'fail')
  );
}

