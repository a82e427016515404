/**
 * compare's content step: every table's rows on both sides (row by row under a usable key, as a multiset
 * without one, counted where a difference is by design), then the materialized views' rows.
 */
import { DEFAULT_DRILL, drillTable, multisetVerdict, type RowDifference } from '../core/content-diff.js';
import type { TableComparison } from '../core/compare-model.js';
import { quoteQualified } from '../core/quote.js';
import type { Side } from '../core/state.js';
import { materializedViews } from '../adapters/catalog/materialized-views.js';
import { type TableRef } from '../adapters/catalog/tables.js';
import { buildTableSpec, multisetWindow, type Sides, tableReader } from '../adapters/content.js';
import { type Client, queryOne } from '../adapters/pg.js';
import type { Progress } from '../adapters/progress.js';

/** Both sides' connections, by role (publisher: the serving side) and by colour. */
export interface CompareSides extends Sides {
  readonly publisherSide: Side;
  readonly subscriberSide: Side;
  readonly clients: Readonly<Record<Side, Client>>;
}

/** The tables each side lists, by display name, and what makes a difference in them expected. */
export interface TablesToCompare {
  readonly blue: ReadonlyMap<string, TableRef>;
  readonly green: ReadonlyMap<string, TableRef>;
  /** Freeze mode after a switchover: tables green took writes in, which differ from frozen blue by design. */
  readonly writtenOnGreen: ReadonlySet<string>;
  /** Tables the migrations created on green. */
  readonly createdByMigrations: ReadonlySet<string>;
}

export interface ContentComparison {
  readonly tables: TableComparison[];
  readonly rowsCompared: number;
  readonly bytesCompared: number;
}

async function tableBytes(client: Client, t: TableRef): Promise<number> {
  const row = await queryOne<{ b: string }>(client, 'SELECT pg_table_size($1::regclass)::text AS b', [quoteQualified(t.schema, t.name)]);
  return Number(row?.b ?? 0);
}

async function countAll(client: Client, t: TableRef): Promise<number> {
  return Number((await queryOne<{ n: string }>(client, `SELECT count(*)::text AS n FROM ${quoteQualified(t.schema, t.name)}`))!.n);
}

/** Row counts as blue's and green's, from the publisher's and the subscriber's. */
function bySide(c: CompareSides, publisherRows: number, subscriberRows: number) {
  return c.publisherSide === 'blue'
    ? { blueRows: publisherRows, greenRows: subscriberRows }
    : { blueRows: subscriberRows, greenRows: publisherRows };
}

/** A table only one side has: counted there. */
async function oneSideOnly(c: CompareSides, name: string, t: TablesToCompare, b?: TableRef, g?: TableRef): Promise<TableComparison> {
  const rows = await countAll(b ? c.clients.blue : c.clients.green, (b ?? g)!);
  return {
    table: name,
    blueRows: b ? rows : null,
    greenRows: g ? rows : null,
    status: b ? 'missing-on-green' : t.createdByMigrations.has(name) ? 'new-on-green' : 'differs',
    method: 'count',
  };
}

/** A table written on green since a freeze-mode switchover: only its counts say anything. */
async function countedOnBoth(c: CompareSides, name: string, b: TableRef, g: TableRef): Promise<TableComparison> {
  const [blueRows, greenRows] = await Promise.all([countAll(c.clients.blue, b), countAll(c.clients.green, g)]);
  return { table: name, blueRows, greenRows, status: blueRows === greenRows ? 'ok' : 'written-since-switchover', method: 'count' };
}

/** One table's content on both sides: by key ranges when its key is usable, else as one multiset. */
async function verifyTable(
  c: CompareSides,
  name: string,
  ref: TableRef,
  maxDifferences: number,
): Promise<{ comparison: TableComparison; rows: number }> {
  const t0 = performance.now();
  const { spec, plan, keyUsable } = await buildTableSpec(
    c.publisher,
    c.subscriber,
    ref.schema,
    ref.name,
    c.publisherSide,
    c.subscriberSide,
  );
  const excluded = plan.excluded.length ? { excludedColumns: plan.excluded } : {};
  if (!keyUsable) {
    const w = await multisetWindow(c, spec);
    const comparison: TableComparison = {
      table: name,
      ...bySide(c, w.publisher.count, w.subscriber.count),
      status: multisetVerdict(w),
      method: 'multiset',
      chunks: 1,
      ms: Math.round(performance.now() - t0),
      ...excluded,
    };
    return { comparison, rows: w.publisher.count + w.subscriber.count };
  }
  const r = await drillTable(tableReader(c, spec), { ...DEFAULT_DRILL, maxDifferences });
  const kind = (k: RowDifference['kind']) =>
    (k === 'differs' ? 'differs' : k === 'missing-on-subscriber' ? `missing-on-${c.subscriberSide}` : `missing-on-${c.publisherSide}`) as
      'differs' | 'missing-on-green' | 'missing-on-blue';
  const comparison: TableComparison = {
    table: name,
    ...bySide(c, r.publisherRows, r.subscriberRows),
    status: r.status,
    method: 'key',
    chunks: r.chunks,
    ms: Math.round(performance.now() - t0),
    ...(r.differences.length ? { differences: r.differences.map((d) => ({ ...d, kind: kind(d.kind) })), truncated: r.truncated } : {}),
    ...(r.unsettled ? { unsettled: r.unsettled } : {}),
    ...excluded,
  };
  return { comparison, rows: r.publisherRows + r.subscriberRows };
}

/** Every table either side has, in name order. */
export async function compareTables(
  c: CompareSides,
  t: TablesToCompare,
  progress: Progress,
  maxDifferences: number,
): Promise<ContentComparison> {
  const names = [...new Set([...t.blue.keys(), ...t.green.keys()])].sort();
  const tables: TableComparison[] = [];
  let rowsCompared = 0;
  let bytesCompared = 0;
  for (const [i, name] of names.entries()) {
    const b = t.blue.get(name);
    const g = t.green.get(name);
    if (!b || !g) {
      tables.push(await oneSideOnly(c, name, t, b, g));
      continue;
    }
    if (t.writtenOnGreen.has(name)) {
      tables.push(await countedOnBoth(c, name, b, g));
      continue;
    }
    progress.start(`Verifying ${name} (${i + 1}/${names.length})`);
    const { comparison, rows } = await verifyTable(c, name, c.publisherSide === 'blue' ? b : g, maxDifferences);
    tables.push(comparison);
    rowsCompared += rows;
    bytesCompared += (await tableBytes(c.clients.blue, b)) + (await tableBytes(c.clients.green, g));
    if (comparison.status === 'differs') progress.fail(`${name}: differs`);
    else progress.succeed(`${name}: ${comparison.status} (${comparison.ms} ms)`);
  }
  return { tables, rowsCompared, bytesCompared };
}

/**
 * Materialized views: their rows as a multiset. A difference is staleness, not a loss: each flip
 * refreshes them on the side traffic goes to.
 */
export async function compareMaterializedViews(
  c: CompareSides,
  lastRefresh: string | undefined,
): Promise<{ views: TableComparison[]; rowsCompared: number }> {
  const views: TableComparison[] = [];
  let rowsCompared = 0;
  const [blueViews, greenViews] = await Promise.all([materializedViews(c.clients.blue), materializedViews(c.clients.green)]);
  for (const [name, view] of blueViews) {
    const other = greenViews.get(name);
    if (!other) continue;
    const t0 = performance.now();
    const base = { table: name, method: 'multiset' as const, materializedView: true };
    if (!view.populated || !other.populated) {
      views.push({
        ...base,
        blueRows: null,
        greenRows: null,
        status: 'stale',
        staleSince: lastRefresh,
        ms: Math.round(performance.now() - t0),
      });
      continue;
    }
    const { spec } = await buildTableSpec(c.publisher, c.subscriber, view.schema, view.name, c.publisherSide, c.subscriberSide);
    const w = await multisetWindow({ publisher: c.publisher, subscriber: c.subscriber }, spec);
    const same = multisetVerdict(w) === 'ok';
    views.push({
      ...base,
      ...bySide(c, w.publisher.count, w.subscriber.count),
      status: same ? 'ok' : 'stale',
      ...(same ? {} : { staleSince: lastRefresh }),
      chunks: 1,
      ms: Math.round(performance.now() - t0),
    });
    rowsCompared += w.publisher.count + w.subscriber.count;
  }
  return { views, rowsCompared };
}
