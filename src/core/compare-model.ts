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
  /**
   * What the finding is about without the names PostgreSQL generates (the table and definition, the
   * column and values): a finding on green is matched with blue's by it.
   */
  readonly identity?: string;
  /** Blue has the same finding, identically: the copy is faithful, so it is a warning, not green's failure. */
  readonly alsoOnBlue?: boolean;
  /** Found on blue only, and green's lack of it is no loss (an invalid index pg_dump does not copy). */
  readonly onlyOnBlue?: boolean;
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

const ALSO_ON_BLUE = 'also on blue, identically: the copy is faithful, fix it on the side that serves';

/**
 * Green's findings weighed against blue's: one blue has identically (same check, same identity) is a
 * warning marked `alsoOnBlue`, since the copy reproduced it and switching sides changes nothing; one
 * on green only keeps its severity.
 */
export function weighAgainstBlue(green: ReadonlyArray<IntegrityFinding>, blue: ReadonlyArray<IntegrityFinding>): IntegrityFinding[] {
  const onBlue = new Set(blue.flatMap((f) => (f.identity === undefined ? [] : [`${f.check} ${f.identity}`])));
  return green.map((f) =>
    f.identity !== undefined && onBlue.has(`${f.check} ${f.identity}`)
      ? { ...f, severity: 'warn', alsoOnBlue: true, detail: `${f.detail}; ${ALSO_ON_BLUE}` }
      : f,
  );
}

/**
 * Blue's invalid indexes that green lacks: pg_dump copies no invalid index (one a failed `CREATE INDEX
 * CONCURRENTLY` left), and such an index answers no query, so green's lack of it is no loss. Returns
 * their snapshot keys, to leave out of the schema diff, and a warning for each.
 */
export function invalidIndexesOnlyOnBlue(
  blue: ReadonlyArray<IntegrityFinding>,
  greenSchemaKeys: ReadonlySet<string>,
): { keys: Set<string>; findings: IntegrityFinding[] } {
  const only = blue.filter((f) => f.check === 'invalid-index' && !greenSchemaKeys.has(`index ${f.object}`));
  return {
    keys: new Set(only.map((f) => `index ${f.object}`)),
    findings: only.map((f) => ({
      check: 'invalid-index',
      object: f.object,
      detail:
        'invalid on blue and not on green: pg_dump copies no invalid index, and an invalid one answers no query; drop it or REINDEX it ' +
        'on blue',
      severity: 'warn',
      ...(f.identity === undefined ? {} : { identity: f.identity }),
      onlyOnBlue: true,
    })),
  };
}
