/**
 * Content verification's logic, free of I/O: compare a table's hash on both sides, split key ranges
 * that differ until the differing rows are found, and under live replication tell a real difference
 * from one still in flight.
 *
 * Each read goes: publisher (P1), a drain (the subscriber has applied everything up to after P1),
 * subscriber (S), publisher again (P2). If P1 = S the two sides agree. If P1 ≠ S and P1 = P2, the
 * publisher did not change across the window, so the subscriber, having applied everything before
 * the drain, should equal P1: the difference is real. If P1 ≠ P2, writes are in flight there: look
 * closer (split), or at row level read again; a row that never settles is reported as in flight,
 * never as a difference. Without replication (freeze mode) one read of each side is exact.
 */

/** A half-open key range: from `lo` (inclusive) to `hi` (exclusive); undefined ends are open. */
export interface KeyRange {
  readonly lo?: ReadonlyArray<string>;
  readonly hi?: ReadonlyArray<string>;
}

export interface RangeHash {
  readonly count: number;
  readonly hash: string;
}

export interface Window<T> {
  readonly publisher: T;
  readonly subscriber: T;
  /** The publisher read again after the subscriber; undefined when nothing replicates (one read is exact). */
  readonly publisherAgain?: T;
}

export type RowKey = string; // JSON of the key's text values

export interface RowDifference {
  readonly key: Readonly<Record<string, string>>;
  readonly kind: 'missing-on-subscriber' | 'missing-on-publisher' | 'differs';
  readonly columns?: ReadonlyArray<string>;
}

/** What the drill needs from the databases, for one table; each call reads both sides through a window. */
export interface TableReader {
  hashRange(range: KeyRange): Promise<Window<RangeHash>>;
  /** Up to `parts` boundaries splitting the range into parts of similar size (from the publisher). */
  split(range: KeyRange, parts: number): Promise<ReadonlyArray<ReadonlyArray<string>>>;
  /** Every row's hash in the range, keyed by its key. */
  rows(range: KeyRange): Promise<Window<ReadonlyMap<RowKey, string>>>;
  /** Rows read again by key (for rows in flight). */
  rowsByKey(keys: ReadonlyArray<RowKey>): Promise<Window<ReadonlyMap<RowKey, string>>>;
  /** Which columns differ for keys present on both sides. */
  differingColumns(keys: ReadonlyArray<RowKey>): Promise<ReadonlyMap<RowKey, ReadonlyArray<string>>>;
  readonly keyColumns: ReadonlyArray<string>;
}

export interface DrillOptions {
  /** Ranges with at most this many rows are compared row by row. */
  readonly rowLevelAt: number;
  readonly splitInto: number;
  /** Report at most this many differing keys per table. */
  readonly maxDifferences: number;
  /** Rounds a row in flight is read again before it is reported as unsettled. */
  readonly settleRounds: number;
}

export const DEFAULT_DRILL: DrillOptions = { rowLevelAt: 2000, splitInto: 16, maxDifferences: 20, settleRounds: 5 };

export interface DrillResult {
  readonly status: 'ok' | 'differs' | 'in-flight';
  readonly publisherRows: number;
  readonly subscriberRows: number;
  /** Range hashes computed (the whole table counts as one). */
  readonly chunks: number;
  readonly differences: ReadonlyArray<RowDifference>;
  /** More differing rows than were listed. */
  readonly truncated: boolean;
  /** Rows that kept changing on the publisher while being read: in flight, not reported as differences. */
  readonly unsettled: number;
}

const same = (a: RangeHash, b: RangeHash) => a.count === b.count && a.hash === b.hash;

/** Row-level diff of one window: keys whose value differs, and whether the publisher held still for each. */
export function diffRows(w: Window<ReadonlyMap<RowKey, string>>): { real: RowKey[]; moving: RowKey[] } {
  const real: RowKey[] = [];
  const moving: RowKey[] = [];
  const keys = new Set([...w.publisher.keys(), ...w.subscriber.keys()]);
  for (const key of keys) {
    const p = w.publisher.get(key);
    const s = w.subscriber.get(key);
    if (p === s) continue;
    if (w.publisherAgain && w.publisherAgain.get(key) !== p) moving.push(key);
    else real.push(key);
  }
  return { real, moving };
}

export async function drillTable(reader: TableReader, options: DrillOptions = DEFAULT_DRILL): Promise<DrillResult> {
  let chunks = 0;
  const realKeys: RowKey[] = [];
  const pending: RowKey[] = [];
  const root = await reader.hashRange({});
  chunks++;
  const publisherRows = root.publisher.count;
  const subscriberRows = root.subscriber.count;

  const visit = async (range: KeyRange, w: Window<RangeHash>): Promise<void> => {
    if (same(w.publisher, w.subscriber)) return;
    if (realKeys.length > options.maxDifferences) return;
    if (Math.max(w.publisher.count, w.subscriber.count) <= options.rowLevelAt) {
      const rows = await reader.rows(range);
      const { real, moving } = diffRows(rows);
      realKeys.push(...real);
      pending.push(...moving);
      return;
    }
    const bounds = await reader.split(range, options.splitInto);
    const edges: Array<ReadonlyArray<string> | undefined> = [range.lo, ...bounds, range.hi];
    for (let i = 0; i + 1 < edges.length; i++) {
      const part: KeyRange = { lo: edges[i], hi: edges[i + 1] };
      const hw = await reader.hashRange(part);
      chunks++;
      await visit(part, hw);
    }
  };
  await visit({}, root);

  // Rows in flight: read again until they hold still or the rounds run out.
  let unsettled = [...new Set(pending)];
  for (let round = 0; round < options.settleRounds && unsettled.length > 0; round++) {
    const w = await reader.rowsByKey(unsettled);
    const { real, moving } = diffRows(w);
    const matched = unsettled.filter((k) => w.publisher.get(k) === w.subscriber.get(k));
    realKeys.push(...real);
    unsettled = moving.filter((k) => !matched.includes(k));
  }

  const keys = [...new Set(realKeys)];
  const listed = keys.slice(0, options.maxDifferences);
  const rows = listed.length ? await reader.rowsByKey(listed) : undefined;
  const both = listed.filter((k) => rows?.publisher.has(k) && rows?.subscriber.has(k));
  const columns = both.length ? await reader.differingColumns(both) : new Map<RowKey, ReadonlyArray<string>>();
  const differences: RowDifference[] = listed.map((k) => {
    const values = JSON.parse(k) as string[];
    const key = Object.fromEntries(reader.keyColumns.map((c, i) => [c, values[i]]));
    if (!rows?.subscriber.has(k)) return { key, kind: 'missing-on-subscriber' };
    if (!rows?.publisher.has(k)) return { key, kind: 'missing-on-publisher' };
    return { key, kind: 'differs', columns: columns.get(k) ?? [] };
  });
  return {
    status: keys.length ? 'differs' : unsettled.length ? 'in-flight' : 'ok',
    publisherRows,
    subscriberRows,
    chunks,
    differences,
    truncated: keys.length > listed.length,
    unsettled: unsettled.length,
  };
}

/** Tables without a key are compared as a multiset: one count and one order-independent sum of row hashes. */
export function multisetVerdict(w: Window<RangeHash>): 'ok' | 'differs' | 'in-flight' {
  if (same(w.publisher, w.subscriber)) return 'ok';
  if (w.publisherAgain && !same(w.publisherAgain, w.publisher)) return 'in-flight';
  return 'differs';
}

export interface ColumnPlan {
  readonly compared: ReadonlyArray<{ readonly name: string; readonly type: string }>;
  readonly excluded: ReadonlyArray<{ readonly name: string; readonly reason: string }>;
}

/** The columns to hash: those both sides have with the same type; the rest are named with the reason. */
export function planColumns(
  publisher: ReadonlyArray<{ readonly name: string; readonly type: string }>,
  subscriber: ReadonlyArray<{ readonly name: string; readonly type: string }>,
  publisherSide: string,
  subscriberSide: string,
): ColumnPlan {
  const sub = new Map(subscriber.map((c) => [c.name, c.type]));
  const pub = new Map(publisher.map((c) => [c.name, c.type]));
  const compared: Array<{ name: string; type: string }> = [];
  const excluded: Array<{ name: string; reason: string }> = [];
  for (const c of publisher) {
    const t = sub.get(c.name);
    if (t === undefined) excluded.push({ name: c.name, reason: `only on ${publisherSide}` });
    else if (t !== c.type)
      excluded.push({ name: c.name, reason: `type differs (${c.type} on ${publisherSide}, ${t} on ${subscriberSide})` });
    else compared.push(c);
  }
  for (const c of subscriber)
    if (!pub.has(c.name)) excluded.push({ name: c.name, reason: `only on ${subscriberSide} (added by a migration?)` });
  return { compared, excluded };
}
