/** The result of `compare`: per-table row counts, the schema diff and integrity findings, and the verdict. */
import type { SchemaDiff } from './schema-diff.js';

/**
 * `in-flight`: replicate mode, the counts still differed after repeated drains while the publisher's
 * count kept moving (writes arriving); a difference on a table no one writes is `differs`.
 */
export type TableStatus = 'ok' | 'differs' | 'missing-on-green' | 'new-on-green' | 'written-since-switchover' | 'in-flight';

export interface TableComparison {
  readonly table: string;
  readonly blueRows: number | null;
  readonly greenRows: number | null;
  readonly status: TableStatus;
}

export interface IntegrityFinding {
  readonly check: 'invalid-constraint' | 'invalid-index' | 'foreign-key-orphans' | 'sequence-behind';
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
}

/**
 * Pairs the counts of both sides. A table only on green is fine when migrations created it; a
 * table only on blue never is. After a switchover, a table green has written to since differs from
 * the frozen blue by design.
 */
export function compareCounts(
  blue: ReadonlyMap<string, number>,
  green: ReadonlyMap<string, number>,
  createdByMigrations: ReadonlySet<string>,
  writtenSinceSwitchover: ReadonlySet<string> = new Set(),
): TableComparison[] {
  const names = [...new Set([...blue.keys(), ...green.keys()])].sort();
  return names.map((table) => {
    const b = blue.get(table);
    const g = green.get(table);
    if (g === undefined) return { table, blueRows: b ?? null, greenRows: null, status: 'missing-on-green' };
    if (b === undefined) return { table, blueRows: null, greenRows: g, status: createdByMigrations.has(table) ? 'new-on-green' : 'differs' };
    if (b === g) return { table, blueRows: b, greenRows: g, status: 'ok' };
    return { table, blueRows: b, greenRows: g, status: writtenSinceSwitchover.has(table) ? 'written-since-switchover' : 'differs' };
  });
}

/** Whether the comparison allows a switchover: no row difference, no unexpected schema change, no failed check. */
export function verdict(tables: ReadonlyArray<TableComparison>, schema: SchemaDiff, integrity: ReadonlyArray<IntegrityFinding>): boolean {
  return (
    tables.every((t) => t.status !== 'differs' && t.status !== 'missing-on-green') &&
    schema.unexpected.length === 0 &&
    integrity.every((f) => f.severity !== 'fail')
  );
}

/**
 * Rechecks the tables that differ under live replication: `recount` drains replication and counts
 * the given tables again on both sides. A table that matches once is ok; one whose publisher count
 * kept changing is in flight; one that differed the same way while nobody wrote to it differs.
 */
export async function settleUnderReplication(
  tables: ReadonlyArray<TableComparison>,
  publisher: 'blue' | 'green',
  recount: (names: ReadonlyArray<string>) => Promise<{ blue: ReadonlyMap<string, number>; green: ReadonlyMap<string, number> }>,
  rounds = 3,
): Promise<TableComparison[]> {
  let current = [...tables];
  const moved = new Set<string>();
  for (let round = 0; round < rounds; round++) {
    const differing = current.filter((t) => t.status === 'differs' && t.blueRows !== null && t.greenRows !== null).map((t) => t.table);
    if (differing.length === 0) break;
    const again = await recount(differing);
    current = current.map((t) => {
      if (!differing.includes(t.table)) return t;
      const b = again.blue.get(t.table) ?? null;
      const g = again.green.get(t.table) ?? null;
      const before = publisher === 'blue' ? t.blueRows : t.greenRows;
      const after = publisher === 'blue' ? b : g;
      if (before !== after) moved.add(t.table);
      return { table: t.table, blueRows: b, greenRows: g, status: b === g ? 'ok' : 'differs' };
    });
  }
  return current.map((t) => (t.status === 'differs' && moved.has(t.table) ? { ...t, status: 'in-flight' } : t));
}
