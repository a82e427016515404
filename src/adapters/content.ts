/**
 * Content verification in PostgreSQL: typed row hashes computed where the rows are, so rows never
 * cross the wire in bulk and are never converted to text. hash_record_extended(ROW(columns)) hashes
 * each value with its type's own hash function (numeric scale, jsonb key order, time zones and
 * floating-point text forms cannot cause false differences); a column whose type has no hash
 * function is hashed as text. A table with a key folds its row hashes with bit_xor (keys are
 * unique, so nothing cancels) and is split by key ranges, which use the key's index; a table without
 * one is a multiset: count and sum.
 */
import { type KeyRange, planColumns, type RangeHash, type RowKey, type TableReader, type Window } from '../core/content-diff.js';
import { quoteIdent, quoteQualified } from '../core/quote.js';
import type { Client } from './pg.js';
import { HASHED_BY_OID, typesHolding } from './type-walk.js';

export interface Column {
  readonly name: string;
  readonly type: string;
}

export async function readColumns(client: Client, schema: string, table: string): Promise<{ columns: Column[]; key: Column[] }> {
  const rel = quoteQualified(schema, table);
  const columns = await client.query<Column>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
      WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`,
    [rel],
  );
  const key = await client.query<Column>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])
      WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`,
    [rel],
  );
  return { columns: columns.rows, key: key.rows };
}

/** Whether PostgreSQL can hash a type directly: asked once per type and session. */
const hashableBySession = new WeakMap<Client, Map<string, boolean>>();
export async function canHash(client: Client, type: string): Promise<boolean> {
  const known = hashableBySession.get(client) ?? new Map<string, boolean>();
  hashableBySession.set(client, known);
  if (!known.has(type)) {
    // An enum's hash is its label's OID, a regclass's the relation's: the same value has another OID on
    // the other side, at any depth (an array of them, a composite holding one...). Those are hashed by
    // their text. A type the walk cannot read is hashed as text too: a false difference is possible
    // then, a false match is not.
    const oidHashed = await typesHolding(client, [type], HASHED_BY_OID).then(
      (hit) => hit.has(type),
      () => true,
    );
    // The type's hash function is looked up even for a NULL: an error means there is none.
    const ok =
      !oidHashed &&
      (await client.query(`SELECT hash_record_extended(ROW(NULL::${type}), 0)`).then(
        () => true,
        () => false,
      ));
    known.set(type, ok);
  }
  return known.get(type)!;
}

export interface TableSpec {
  readonly schema: string;
  readonly name: string;
  readonly columns: ReadonlyArray<Column>;
  /** The primary key; empty for a table verified as a multiset. */
  readonly key: ReadonlyArray<Column>;
  /** Column names hashed as text (their type has no hash function). */
  readonly asText: ReadonlySet<string>;
}

function rowHash(spec: TableSpec, columns: ReadonlyArray<Column> = spec.columns): string {
  const exprs = columns.map((c) => (spec.asText.has(c.name) ? `${quoteIdent(c.name)}::text` : quoteIdent(c.name)));
  return `hash_record_extended(ROW(${exprs.join(', ')}), 0)`;
}

function keyTuple(spec: TableSpec): string {
  const cols = spec.key.map((k) => quoteIdent(k.name));
  return cols.length === 1 ? cols[0] : `(${cols.join(', ')})`;
}

function keyAsText(spec: TableSpec): string {
  return spec.key.map((k, i) => `${quoteIdent(k.name)}::text AS k${i}`).join(', ');
}

/** `(a, b) >= ($1::int, $2::text) AND (a, b) < ($3::int, $4::text)` with its parameters. */
function rangePredicate(spec: TableSpec, range: KeyRange, offset = 0): { sql: string; params: string[] } {
  const parts: string[] = [];
  const params: string[] = [];
  const tuple = (values: ReadonlyArray<string>) => {
    const placeholders = spec.key.map((k, i) => `$${offset + params.length + i + 1}::${k.type}`);
    params.push(...values);
    return placeholders.length === 1 ? placeholders[0] : `(${placeholders.join(', ')})`;
  };
  if (range.lo) parts.push(`${keyTuple(spec)} >= ${tuple(range.lo)}`);
  if (range.hi) parts.push(`${keyTuple(spec)} < ${tuple(range.hi)}`);
  return { sql: parts.length ? parts.join(' AND ') : 'true', params };
}

function keysPredicate(spec: TableSpec, keys: ReadonlyArray<RowKey>): { sql: string; params: unknown[] } {
  const values = keys.map((k) => JSON.parse(k) as string[]);
  const arrays = spec.key.map((_, i) => values.map((v) => v[i]));
  const unnest = spec.key.map((k, i) => `$${i + 1}::${k.type}[]`).join(', ');
  return { sql: `${keyTuple(spec)} IN (SELECT * FROM unnest(${unnest}))`, params: arrays };
}

async function hashOf(client: Client, spec: TableSpec, range: KeyRange): Promise<RangeHash> {
  const where = rangePredicate(spec, range);
  const fold = spec.key.length ? 'bit_xor' : 'sum';
  const { rows } = await client.query<{ n: string; h: string | null }>(
    `SELECT count(*)::text AS n, ${fold}(${rowHash(spec)})::text AS h FROM ${quoteQualified(spec.schema, spec.name)} WHERE ${where.sql}`,
    where.params,
  );
  return { count: Number(rows[0].n), hash: rows[0].h ?? '0' };
}

async function rowsOf(client: Client, spec: TableSpec, where: { sql: string; params: unknown[] }): Promise<Map<RowKey, string>> {
  const { rows } = await client.query(
    `SELECT ${keyAsText(spec)}, ${rowHash(spec)}::text AS h FROM ${quoteQualified(spec.schema, spec.name)} WHERE ${where.sql}`,
    where.params,
  );
  return new Map(rows.map((r) => [JSON.stringify(spec.key.map((_, i) => r[`k${i}`] as string)), r.h as string]));
}

export interface Sides {
  readonly publisher: Client;
  readonly subscriber: Client;
  /** Replicate mode: makes the subscriber apply everything the publisher committed so far. Absent when nothing replicates. */
  readonly drain?: () => Promise<void>;
}

/**
 * Reads both sides: at once first; when they differ while replicating, again through the careful
 * window (publisher, drain, subscriber, publisher again) the drill's verdicts rely on.
 */
async function window<T>(sides: Sides, read: (c: Client) => Promise<T>, equal: (a: T, b: T) => boolean): Promise<Window<T>> {
  const [publisher, subscriber] = await Promise.all([read(sides.publisher), read(sides.subscriber)]);
  if (!sides.drain || equal(publisher, subscriber)) return { publisher, subscriber };
  const p1 = await read(sides.publisher);
  await sides.drain();
  const s = await read(sides.subscriber);
  const p2 = await read(sides.publisher);
  return { publisher: p1, subscriber: s, publisherAgain: p2 };
}

const sameHash = (a: RangeHash, b: RangeHash) => a.count === b.count && a.hash === b.hash;
const sameRows = (a: ReadonlyMap<RowKey, string>, b: ReadonlyMap<RowKey, string>) =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

export function tableReader(sides: Sides, spec: TableSpec): TableReader {
  return {
    keyColumns: spec.key.map((k) => k.name),
    hashRange: (range) => window(sides, (c) => hashOf(c, spec, range), sameHash),
    async split(range, parts) {
      const where = rangePredicate(spec, range, 1);
      const { rows } = await sides.publisher.query(
        `SELECT ${spec.key.map((_, i) => `k${i}`).join(', ')} FROM (
           SELECT ${keyAsText(spec)}, row_number() OVER (ORDER BY ${spec.key.map((k) => quoteIdent(k.name)).join(', ')}) AS rn,
                  count(*) OVER () AS total
             FROM ${quoteQualified(spec.schema, spec.name)} WHERE ${where.sql}) s
          WHERE rn > 1 AND (rn - 1) % greatest(1, ceil(total::numeric / $1)::int) = 0 ORDER BY rn`,
        [parts, ...where.params],
      );
      return rows.map((r) => spec.key.map((_, i) => r[`k${i}`] as string));
    },
    rows: (range) => window(sides, (c) => rowsOf(c, spec, rangePredicate(spec, range)), sameRows),
    rowsByKey: (keys) => window(sides, (c) => rowsOf(c, spec, keysPredicate(spec, keys)), sameRows),
    async differingColumns(keys) {
      const where = keysPredicate(spec, keys);
      const perColumn = async (c: Client) => {
        const { rows } = await c.query(
          `SELECT ${keyAsText(spec)}, ${spec.columns.map((col, i) => `${rowHash(spec, [col])}::text AS c${i}`).join(', ')}
             FROM ${quoteQualified(spec.schema, spec.name)} WHERE ${where.sql}`,
          where.params,
        );
        return new Map(
          rows.map((r) => [JSON.stringify(spec.key.map((_, i) => r[`k${i}`] as string)), spec.columns.map((_, i) => r[`c${i}`] as string)]),
        );
      };
      const [p, s] = await Promise.all([perColumn(sides.publisher), perColumn(sides.subscriber)]);
      return new Map(keys.map((k) => [k, spec.columns.filter((_, i) => p.get(k)?.[i] !== s.get(k)?.[i]).map((c) => c.name)]));
    },
  };
}

/** The whole table as a multiset (tables without a key). */
export function multisetWindow(sides: Sides, spec: TableSpec): Promise<Window<RangeHash>> {
  return window(sides, (c) => hashOf(c, spec, {}), sameHash);
}

/** What compare and the switchover's verify hash for one table: the common columns, the key if both sides share it. */
export async function buildTableSpec(
  publisher: Client,
  subscriber: Client,
  schema: string,
  name: string,
  publisherSide: string,
  subscriberSide: string,
) {
  const [pub, sub] = await Promise.all([readColumns(publisher, schema, name), readColumns(subscriber, schema, name)]);
  const plan = planColumns(pub.columns, sub.columns, publisherSide, subscriberSide);
  const asText = new Set<string>();
  for (const c of plan.compared) if (!(await canHash(publisher, c.type))) asText.add(c.name);
  const keyUsable =
    pub.key.length > 0 &&
    pub.key.every((k) => plan.compared.some((c) => c.name === k.name && c.type === k.type)) &&
    JSON.stringify(pub.key) === JSON.stringify(sub.key);
  const spec: TableSpec = { schema, name, columns: plan.compared, key: keyUsable ? pub.key : [], asText };
  return { spec, plan, keyUsable };
}

/** Keys of the rows inserted or updated since transaction `sinceXid` (their xmin is younger): a full scan. */
export async function keysWrittenSince(client: Client, spec: TableSpec, sinceXid: string): Promise<RowKey[]> {
  const { rows } = await client.query(
    `SELECT ${keyAsText(spec)} FROM ${quoteQualified(spec.schema, spec.name)} WHERE age(xmin) <= (txid_current() - $1::bigint)`,
    [sinceXid],
  );
  return rows.map((r) => JSON.stringify(spec.key.map((_, i) => r[`k${i}`] as string)));
}

export async function countRowsOf(client: Client, spec: Pick<TableSpec, 'schema' | 'name'>): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteQualified(spec.schema, spec.name)}`);
  return Number(rows[0].n);
}
