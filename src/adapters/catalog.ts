/** What the catalogs say: tables, row counts, sequences, schema snapshots and integrity on one database. */
import type { IntegrityFinding } from '../core/compare-model.js';
import { displayName, quoteIdent, quoteQualified } from '../core/quote.js';
import { enumDefinition, type SchemaSnapshot } from '../core/schema-diff.js';
import { databaseLevelEntries } from './database-level.js';
import { GUARD_SCHEMA, GUARD_TRIGGER } from './write-guard.js';
import { type Client, queryOne } from './pg.js';
import { aheadOf, furthest, isPast, type SequenceShape } from '../core/sequences.js';
import { refreshPlan } from '../core/materialized-views.js';
import { normaliseViewDefinition } from '../core/view-definition.js';

export interface TableRef {
  readonly schema: string;
  readonly name: string;
  /** `schema.table` as operators read it. */
  readonly display: string;
  readonly hasPrimaryKey: boolean;
  readonly replicaIdentity: string;
  readonly unlogged: boolean;
}

/** Schemas that are not the application's: system ones and ours (extension-owned objects are excluded separately). */
export const USER_NAMESPACE = `n.nspname NOT IN ('pg_catalog', 'information_schema', '${GUARD_SCHEMA}') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'`;
export const NOT_EXTENSION = (oid: string) => `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = ${oid} AND d.deptype = 'e')`;

export async function listTables(client: Client): Promise<TableRef[]> {
  const { rows } = await client.query<{ schema: string; name: string; has_pk: boolean; relreplident: string; unlogged: boolean }>(
    `SELECT n.nspname AS schema, c.relname AS name,
            EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p') AS has_pk,
            c.relreplident, c.relpersistence = 'u' AS unlogged
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND ${USER_NAMESPACE} AND ${NOT_EXTENSION('c.oid')}
      ORDER BY 1, 2`,
  );
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    display: displayName(r.schema, r.name),
    hasPrimaryKey: r.has_pk,
    replicaIdentity: r.relreplident,
    unlogged: r.unlogged,
  }));
}

export interface SequenceValue {
  readonly schema: string;
  readonly name: string;
  readonly lastValue: string | null;
  /** Negative for a descending sequence: "ahead" is then lower. */
  readonly increment: string;
}

/**
 * Reading a sequence locks it until the transaction ends, and PostgreSQL's lock table is shared and
 * finite (max_locks_per_transaction × (max_connections + max_prepared_transactions) slots). One
 * statement over 10,000 sequences would fail with "out of shared memory": a quarter of the table is
 * the most one statement of ours takes. `sequenceLockBudget` reads it.
 */
export async function sequenceLockBudget(client: Client): Promise<number> {
  const row = await queryOne<{ slots: number }>(
    client,
    `SELECT (current_setting('max_locks_per_transaction')::int * (current_setting('max_connections')::int + current_setting('max_prepared_transactions')::int))::int AS slots`,
  );
  return Math.max(64, Math.floor(row!.slots / 4));
}

function chunks<T>(items: ReadonlyArray<T>, size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const SEQUENCE_FINGERPRINT = `SELECT count(*)::text || ':' || coalesce(sum(oid::int8), 0)::text AS f FROM pg_class WHERE relkind = 'S'`;

interface ListedSequence extends SequenceShape {
  readonly oid: string;
  readonly schema: string;
  readonly name: string;
}

/** The application's sequences with their shape (no values: listing takes no lock on them) and the fingerprint of the set, in one snapshot. */
async function listSequences(client: Client): Promise<{ sequences: ListedSequence[]; fingerprint: string }> {
  const { rows } = await client.query<{
    oid: string | null;
    schema: string;
    name: string;
    increment: string;
    min: string;
    max: string;
    cycle: boolean;
    fingerprint: string;
  }>(
    `SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name, f.f AS fingerprint,
            s.seqincrement::text AS increment, s.seqmin::text AS min, s.seqmax::text AS max, s.seqcycle AS cycle
       FROM (${SEQUENCE_FINGERPRINT}) f LEFT JOIN (pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND c.relkind = 'S' AND ${USER_NAMESPACE}
                                                  JOIN pg_sequence s ON s.seqrelid = c.oid) ON true
      ORDER BY 2, 3`,
  );
  return { sequences: rows.filter((r) => r.oid !== null) as ListedSequence[], fingerprint: rows[0].fingerprint };
}

/** Values by oid, at most `budget` sequences a statement; one dropped since the listing reads as absent. */
async function sequenceValues(client: Client, oids: ReadonlyArray<string>, budget: number): Promise<Map<string, string | null>> {
  const values = new Map<string, string | null>();
  for (const part of chunks(oids, budget)) {
    const { rows } = await client.query<{ oid: string; value: string | null }>(
      `SELECT t.x::int8::text AS oid, CASE WHEN EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.x) THEN pg_sequence_last_value(t.x)::text END AS value FROM unnest($1::oid[]) AS t(x)`,
      [part],
    );
    for (const r of rows) values.set(r.oid, r.value);
  }
  return values;
}

/** Every sequence's value (each is a relation open and a page read), a lock budget's worth a statement. */
export async function readSequences(client: Client, budget?: number): Promise<SequenceValue[]> {
  const { sequences } = await listSequences(client);
  const values = await sequenceValues(
    client,
    sequences.map((s) => s.oid),
    budget ?? (await sequenceLockBudget(client)),
  );
  return sequences
    .filter((s) => values.has(s.oid))
    .map((s) => ({ schema: s.schema, name: s.name, lastValue: values.get(s.oid) ?? null, increment: s.increment }));
}

/**
 * Sets every sequence on `to` to at least its value on `from` (owned or not). pg_dump reads sequences
 * outside its snapshot, and in replicate mode sequences do not replicate at all, so this runs at
 * every flip. Never moves a sequence backwards. Returns how many were advanced.
 */
export async function syncSequences(from: Client, to: Client): Promise<number> {
  const budget = Math.min(await sequenceLockBudget(from), await sequenceLockBudget(to));
  const [source, target] = await Promise.all([readSequences(from, budget), readSequences(to, budget)]);
  const held = new Map(target.map((s) => [`${s.schema}.${s.name}`, s.lastValue]));
  const behind = source.flatMap((s) => {
    const key = `${s.schema}.${s.name}`;
    return held.has(key) && isPast(s.lastValue, held.get(key) ?? null, s.increment)
      ? [{ schema: s.schema, name: s.name, value: s.lastValue! }]
      : [];
  });
  await setSequences(to, behind, budget);
  return behind.length;
}

/**
 * What the pause needs to finish the sequences: every sequence both sides have, by its oid on the
 * source, with the value the target is known to hold; a fingerprint of the source's set of
 * sequences, so one created since is noticed; and whether `from` holds their locks in a transaction.
 */
export interface SequencePlan {
  readonly sequences: ReadonlyArray<{
    readonly oid: string;
    readonly schema: string;
    readonly name: string;
    readonly threshold: string | null;
    readonly descending: boolean;
  }>;
  readonly fingerprint: string;
  readonly budget: number;
  readonly holdsLocks: boolean;
}

/**
 * Inside the pause: the fingerprint, and only the sequences that moved past what the target holds,
 * so it returns a handful of rows, not thousands. Each value read costs a relation open (about 2 µs
 * here): the statement does nothing else per sequence.
 */
const MOVED_SEQUENCES = {
  name: 'bluegreen_moved_sequences',
  // The function in the target list, not LATERAL (a function scan per row cost 0.7 ms more for 2,000).
  text: `SELECT f.f AS fingerprint, m.oid, m.value FROM (${SEQUENCE_FINGERPRINT}) f LEFT JOIN (
           SELECT s.x::int8::text AS oid, s.v::text AS value
             FROM (SELECT t.x, t.threshold, t.down, pg_sequence_last_value(t.x) AS v FROM unnest($1::oid[], $2::int8[], $3::bool[]) AS t(x, threshold, down) OFFSET 0) s
            WHERE s.v IS NOT NULL AND (s.threshold IS NULL OR CASE WHEN s.down THEN s.v < s.threshold ELSE s.v > s.threshold END)) m ON true`,
};

/**
 * Before the pause, while traffic still flows: every sequence on `to` set to at least its value on
 * `from` now (the target is frozen, nothing else moves its sequences, and a sequence only ever moves
 * forward), and the plan for the pause.
 *
 * When they fit in the lock budget, leaves `from` inside a read-only transaction that
 * `syncMovedSequences` ends: reading a sequence takes a lock on it for the transaction (RowExclusive,
 * which nextval takes too, so nothing waits), so inside the pause the same read takes none (5.8 ms
 * instead of 7.5 for 2,000 sequences here), and none of them can be dropped meanwhile. The session
 * has run that read once, so its relations are open and its statement prepared.
 */
export async function presyncSequences(
  from: Client,
  to: Client,
  options: { budget?: number; horizonMs?: number } = {},
): Promise<{ plan: SequencePlan; advanced: number; movedAhead: number }> {
  const budget = options.budget ?? Math.min(await sequenceLockBudget(from), await sequenceLockBudget(to));
  const listing = await listSequences(from);
  const holdsLocks = listing.sequences.length <= budget;
  if (holdsLocks) await from.query('BEGIN');
  try {
    const firstReadAt = performance.now();
    const [source, target] = await Promise.all([
      sequenceValues(
        from,
        listing.sequences.map((s) => s.oid),
        budget,
      ),
      readSequences(to, budget),
    ]);
    const targetValues = new Map(target.map((s) => [`${s.schema}.${s.name}`, s.lastValue]));
    const both = listing.sequences.filter((s) => source.has(s.oid) && targetValues.has(`${s.schema}.${s.name}`));
    const plan = (threshold: (s: ListedSequence) => string | null): SequencePlan => ({
      sequences: both.map((s) => ({
        oid: s.oid,
        schema: s.schema,
        name: s.name,
        threshold: threshold(s),
        descending: BigInt(s.increment) < 0n,
      })),
      fingerprint: listing.fingerprint,
      budget,
      holdsLocks,
    });
    const behind = both.filter((s) => isPast(source.get(s.oid) ?? null, targetValues.get(`${s.schema}.${s.name}`) ?? null, s.increment));
    await setSequences(
      to,
      behind.map((s) => ({ schema: s.schema, name: s.name, value: source.get(s.oid)! })),
      budget,
    );
    const synced = plan((s) => furthest(source.get(s.oid) ?? null, targetValues.get(`${s.schema}.${s.name}`) ?? null, s.increment));
    // The ones that moved since the first read are busy: set ahead by a horizon of their pace, so
    // the pause (a few hundred ms away at most, usually) finds them still short of it and sets nothing.
    const moved = new Map((await readMoved(from, synced)).moved.map((m) => [m.oid, m.value]));
    const elapsed = performance.now() - firstReadAt;
    const ahead = both.flatMap((s) => {
      if (!moved.has(s.oid)) return [];
      const value = aheadOf(source.get(s.oid) ?? null, moved.get(s.oid)!, elapsed, s, options.horizonMs ?? 1000);
      return value === null ? [] : [{ oid: s.oid, schema: s.schema, name: s.name, value }];
    });
    await setSequences(to, ahead, budget);
    const aheadBy = new Map(ahead.map((a) => [a.oid, a.value]));
    const held = new Map(synced.sequences.map((x) => [x.oid, x.threshold]));
    // The read above also warmed the session: its relations are open and the statement prepared for the pause.
    return {
      plan: plan((s) => (aheadBy.has(s.oid) ? aheadBy.get(s.oid)! : held.get(s.oid)!)),
      advanced: behind.length,
      movedAhead: ahead.length,
    };
  } catch (error) {
    if (holdsLocks) await from.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Inside the pause: the sequences that moved on `from` since `presyncSequences`, read by oid and
 * filtered on the server, set on `to`. If the source's set of sequences changed meanwhile, every
 * sequence is read and set instead. Returns how many were advanced.
 */
export async function syncMovedSequences(from: Client, to: Client, plan: SequencePlan): Promise<{ advanced: number; fullRead: boolean }> {
  let read: Awaited<ReturnType<typeof readMoved>>;
  try {
    read = await readMoved(from, plan);
  } finally {
    // Read-only: its end needs no waiting for (a lost COMMIT is a rollback of nothing).
    if (plan.holdsLocks) from.query('COMMIT').catch(() => undefined);
  }
  // One created since shows in the fingerprint (taken after the freeze: one made later cannot be in any row).
  if (read.fingerprint !== plan.fingerprint) return { advanced: await syncSequences(from, to), fullRead: true };
  const byOid = new Map(plan.sequences.map((s) => [s.oid, s]));
  const behind = read.moved.map((m) => ({ schema: byOid.get(m.oid)!.schema, name: byOid.get(m.oid)!.name, value: m.value }));
  await setSequences(to, behind, plan.budget);
  return { advanced: behind.length, fullRead: false };
}

/**
 * The in-pause read, a lock budget's worth a statement. Holding the locks, the plan's sequences
 * cannot be dropped meanwhile; without (a schema over the budget), one dropped since fails the read,
 * loudly, and the flip is undone.
 */
async function readMoved(from: Client, plan: SequencePlan): Promise<{ fingerprint: string; moved: Array<{ oid: string; value: string }> }> {
  let fingerprint = '';
  const moved: Array<{ oid: string; value: string }> = [];
  for (const part of plan.sequences.length ? chunks(plan.sequences, plan.budget) : [[]]) {
    const { rows } = await from.query<{ fingerprint: string; oid: string | null; value: string }>({
      ...MOVED_SEQUENCES,
      values: [part.map((s) => s.oid), part.map((s) => s.threshold), part.map((s) => s.descending)],
    });
    fingerprint = rows[0].fingerprint;
    for (const r of rows) if (r.oid !== null) moved.push({ oid: r.oid, value: r.value });
  }
  return { fingerprint, moved };
}

async function setSequences(
  to: Client,
  values: ReadonlyArray<{ schema: string; name: string; value: string }>,
  budget: number,
): Promise<void> {
  for (const part of chunks(values, budget)) {
    await to.query(
      `SELECT count(setval(format('%I.%I', v.schema, v.name)::regclass, v.value, true)) FROM unnest($1::text[], $2::text[], $3::bigint[]) AS v(schema, name, value)`,
      [part.map((s) => s.schema), part.map((s) => s.name), part.map((s) => s.value)],
    );
  }
}

/**
 * Runs catalog reads with `search_path = pg_catalog`, restoring the session's own after: format_type,
 * pg_get_expr and pg_get_*def leave out the schema of whatever is on the search path, so a
 * database-level `search_path` on one side only made identical objects read differently.
 */
export async function withCatalogSearchPath<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  const before = (await client.query<{ p: string }>(`SELECT current_setting('search_path') AS p`)).rows[0].p;
  await client.query(`SELECT set_config('search_path', 'pg_catalog', false)`);
  try {
    return await fn();
  } finally {
    await client.query(`SELECT set_config('search_path', $1, false)`, [before]).catch(() => undefined);
  }
}

/**
 * The schema as a flat map of object → definition, for diffing: tables, columns, constraints,
 * indexes, sequences, triggers, enum types (their labels in order), materialized views, and the
 * database-level settings, grants and comment. Names are always schema-qualified.
 */
export async function readSchema(client: Client): Promise<SchemaSnapshot> {
  return withCatalogSearchPath(client, async () => ({ ...(await readObjects(client)), ...(await databaseLevelEntries(client)) }));
}

async function readObjects(client: Client): Promise<Record<string, string>> {
  const snapshot: Record<string, string> = {};
  const tables = await client.query<{ key: string; def: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS key, CASE c.relkind WHEN 'p' THEN 'partitioned table' ELSE 'table' END ||
            CASE WHEN c.relpersistence = 'u' THEN ' (unlogged)' ELSE '' END ||
            CASE WHEN c.relkind = 'p' THEN ' by ' || pg_get_partkeydef(c.oid) ELSE '' END ||
            CASE WHEN c.relispartition THEN (SELECT format(' partition of %I.%I ', pn.nspname, p.relname) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                                               JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid) || pg_get_expr(c.relpartbound, c.oid)
                 ELSE '' END AS def
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND ${USER_NAMESPACE} AND ${NOT_EXTENSION('c.oid')}`,
  );
  for (const r of tables.rows) snapshot[`table ${r.key}`] = r.def;
  const columns = await client.query<{ key: string; def: string }>(
    `SELECT format('%I.%I.%I', n.nspname, c.relname, a.attname) AS key,
            format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END ||
            coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') ||
            CASE WHEN a.attidentity <> '' THEN ' identity' ELSE '' END ||
            CASE WHEN a.attgenerated <> '' THEN ' generated' ELSE '' END AS def
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND ${USER_NAMESPACE} AND ${NOT_EXTENSION('c.oid')}`,
  );
  for (const r of columns.rows) snapshot[`column ${r.key}`] = r.def;
  // PostgreSQL 18 records NOT NULL as constraints (contype 'n'); every version has it in the column's
  // definition, which is where this snapshot keeps it: a 15 → 18 upgrade must not read as drift.
  // What PostgreSQL derives from a parent is the parent's entry, not one of its own: constraints
  // cloned onto partitions (conparentid), CHECKs inherited and not declared locally, index partitions
  // and triggers cloned onto partitions. Their generated names differ after any restore, and a
  // partition made on the standby from its parent gets them by itself.
  const constraints = await client.query<{ key: string; def: string }>(
    `SELECT format('%I.%I.%I', n.nspname, c.relname, k.conname) AS key, pg_get_constraintdef(k.oid) AS def
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE k.contype <> 'n' AND k.conparentid = 0 AND (k.conislocal OR k.coninhcount = 0) AND ${USER_NAMESPACE} AND ${NOT_EXTENSION('c.oid')}`,
  );
  for (const r of constraints.rows) snapshot[`constraint ${r.key}`] = r.def;
  const indexes = await client.query<{ key: string; def: string }>(
    `SELECT format('%I.%I', n.nspname, ic.relname) AS key, regexp_replace(pg_get_indexdef(i.indexrelid), '^CREATE (UNIQUE )?INDEX \\S+ ', 'CREATE \\1INDEX ') AS def
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
      WHERE NOT ic.relispartition AND ${USER_NAMESPACE} AND ${NOT_EXTENSION('i.indrelid')}`,
  );
  for (const r of indexes.rows) snapshot[`index ${r.key}`] = r.def;
  const sequences = await client.query<{ key: string; def: string }>(
    `SELECT format('%I.%I', schemaname, sequencename) AS key,
            format('%s increment %s min %s max %s%s', data_type, increment_by, min_value, max_value, CASE WHEN cycle THEN ' cycle' ELSE '' END) AS def
       FROM pg_sequences s JOIN pg_namespace n ON n.nspname = s.schemaname WHERE ${USER_NAMESPACE}`,
  );
  for (const r of sequences.rows) snapshot[`sequence ${r.key}`] = r.def;
  const triggers = await client.query<{ key: string; def: string }>(
    `SELECT format('%I.%I.%I', n.nspname, c.relname, t.tgname) AS key, pg_get_triggerdef(t.oid) AS def
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND t.tgname <> $1 AND ${USER_NAMESPACE}`,
    [GUARD_TRIGGER],
  );
  for (const r of triggers.rows) snapshot[`trigger ${r.key}`] = r.def;
  const enums = await client.query<{ key: string; labels: string[] }>(
    `SELECT format('%I.%I', n.nspname, t.typname) AS key, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
      WHERE ${USER_NAMESPACE} AND ${NOT_EXTENSION('t.oid')} GROUP BY 1`,
  );
  for (const r of enums.rows) snapshot[`enum ${r.key}`] = enumDefinition(r.labels);
  const matviews = await client.query<{ key: string; def: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS key, pg_get_viewdef(c.oid) AS def
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'm' AND ${USER_NAMESPACE} AND ${NOT_EXTENSION('c.oid')}`,
  );
  // In 16's form on every major: 15 qualifies the columns of a query over one relation, 16 and later do not.
  for (const r of matviews.rows) snapshot[`materialized view ${r.key}`] = normaliseViewDefinition(r.def.replace(/\s+/g, ' ').trim());
  return snapshot;
}

/** A foreign key whose orphans integrity would count. */
export interface ForeignKeyRef {
  readonly object: string; // schema.table.constraint as format('%I.%I.%I')
  readonly child: string; // display names
  readonly parent: string;
}

/** Which checks `checkIntegrity` runs in full; the costly ones (a scan each) may be limited. */
export interface IntegrityScope {
  /** Before the switchover in replicate mode green's sequences lag by design (synced at the flip). */
  readonly sequencesMayLag: boolean;
  /** Whether to count this foreign key's orphans (an anti-join): spare those proven orphan-free some other way. */
  readonly checkForeignKey?: (fk: ForeignKeyRef) => boolean;
  /** Whether to read the maximum (a scan) of the column this sequence (display name) serves. */
  readonly checkSequence?: (sequence: string) => boolean;
}

/**
 * Integrity of one database: invalid constraints and indexes, foreign-key orphans, sequences behind
 * their column. Each finding carries an identity free of generated names, so green's can be matched
 * with blue's. Constraints cloned from a partitioned table's (conparentid <> 0) are the parent's: its
 * finding covers them, and an orphan count per clone would be wrong (a clone referencing one
 * partition counts every row that references another).
 */
export async function checkIntegrity(client: Client, scope: IntegrityScope): Promise<IntegrityFinding[]> {
  return withCatalogSearchPath(client, () => integrity(client, scope));
}

async function integrity(
  client: Client,
  { sequencesMayLag, checkForeignKey = () => true, checkSequence = () => true }: IntegrityScope,
): Promise<IntegrityFinding[]> {
  const findings: IntegrityFinding[] = [];
  const invalid = await client.query<{ object: string; identity: string }>(
    `SELECT format('%I.%I.%I', n.nspname, c.relname, k.conname) AS object, format('%I.%I ', n.nspname, c.relname) || pg_get_constraintdef(k.oid) AS identity
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT k.convalidated AND k.conparentid = 0 AND ${USER_NAMESPACE}`,
  );
  for (const r of invalid.rows) {
    findings.push({
      check: 'invalid-constraint',
      object: r.object,
      detail: 'NOT VALID: run ALTER TABLE … VALIDATE CONSTRAINT',
      severity: 'fail',
      identity: r.identity,
    });
  }
  // The identity is the definition without the index's name, as the schema snapshot reads it.
  const badIndexes = await client.query<{ object: string; identity: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS object, regexp_replace(pg_get_indexdef(i.indexrelid), '^CREATE (UNIQUE )?INDEX \\S+ ', 'CREATE \\1INDEX ') AS identity
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE (NOT i.indisvalid OR NOT i.indisready) AND ${USER_NAMESPACE}`,
  );
  for (const r of badIndexes.rows) {
    findings.push({
      check: 'invalid-index',
      object: r.object,
      detail: 'invalid (a failed CREATE INDEX CONCURRENTLY?): REINDEX or drop it',
      severity: 'fail',
      identity: r.identity,
    });
  }
  const fks = await client.query<{
    object: string;
    definition: string;
    child_schema: string;
    child: string;
    child_cols: string[];
    parent_schema: string;
    parent: string;
    parent_cols: string[];
  }>(
    `SELECT format('%I.%I.%I', cn.nspname, c.relname, k.conname) AS object, pg_get_constraintdef(k.oid) AS definition,
            cn.nspname AS child_schema, c.relname AS child, pn.nspname AS parent_schema, p.relname AS parent,
            ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, o) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.o)::text[] AS child_cols,
            ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, o) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.o)::text[] AS parent_cols
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
       JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
      WHERE k.contype = 'f' AND k.conparentid = 0 AND ${USER_NAMESPACE.replace(/n\.nspname/g, 'cn.nspname')}`,
  );
  for (const fk of fks.rows) {
    if (
      !checkForeignKey({
        object: fk.object,
        child: displayName(fk.child_schema, fk.child),
        parent: displayName(fk.parent_schema, fk.parent),
      })
    )
      continue;
    const notNull = fk.child_cols.map((col) => `c.${quoteIdent(col)} IS NOT NULL`).join(' AND ');
    const join = fk.child_cols.map((col, i) => `p.${quoteIdent(fk.parent_cols[i])} = c.${quoteIdent(col)}`).join(' AND ');
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${quoteQualified(fk.child_schema, fk.child)} c
        WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${quoteQualified(fk.parent_schema, fk.parent)} p WHERE ${join})`,
    );
    if (Number(rows[0].n) > 0) {
      findings.push({
        check: 'foreign-key-orphans',
        object: fk.object,
        detail: `${rows[0].n} rows reference a missing ${displayName(fk.parent_schema, fk.parent)} row`,
        severity: 'fail',
        identity: `${quoteQualified(fk.child_schema, fk.child)} ${fk.definition}: ${rows[0].n} orphans`,
      });
    }
  }
  const owned = await client.query<{
    seq_schema: string;
    seq: string;
    schema: string;
    tbl: string;
    col: string;
    last_value: string | null;
  }>(
    `SELECT sn.nspname AS seq_schema, s.relname AS seq, tn.nspname AS schema, t.relname AS tbl, a.attname AS col, ps.last_value::text AS last_value
       FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' JOIN pg_namespace sn ON sn.oid = s.relnamespace
       JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
       JOIN pg_sequences ps ON ps.schemaname = sn.nspname AND ps.sequencename = s.relname
      WHERE d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND ${USER_NAMESPACE.replace(/n\.nspname/g, 'sn.nspname')}`,
  );
  for (const s of owned.rows) {
    if (!checkSequence(displayName(s.seq_schema, s.seq))) continue;
    const column = `${displayName(s.schema, s.tbl)}.${s.col}`;
    const { rows } = await client.query<{ max: string | null }>(
      `SELECT max(${quoteIdent(s.col)})::text AS max FROM ${quoteQualified(s.schema, s.tbl)}`,
    );
    const max = rows[0].max;
    if (max === null || !/^-?\d+$/.test(max)) continue;
    const last = s.last_value === null ? null : BigInt(s.last_value);
    if (last === null || last < BigInt(max)) {
      findings.push({
        check: 'sequence-behind',
        object: displayName(s.seq_schema, s.seq),
        detail: `at ${s.last_value ?? 'unused'}, ${column} reaches ${max}: the next insert would collide${sequencesMayLag ? ' (synced at switchover)' : ''}`,
        severity: sequencesMayLag ? 'warn' : 'fail',
        identity: `${column} at ${s.last_value ?? 'unused'} reaches ${max}`,
      });
    }
  }
  return findings;
}

export interface WrittenRows {
  readonly table: string;
  readonly written: number;
}

/** This transaction's id (64-bit): rows written later have a newer xmin. */
export async function currentXid(client: Client): Promise<string> {
  const { rows } = await client.query<{ xid: string }>('SELECT txid_current()::text AS xid');
  return rows[0].xid;
}

/**
 * Rows inserted or updated since transaction `sinceXid`, per table: their xmin is younger than it.
 * (`age()` handles wraparound; rows frozen by VACUUM since count as old, which needs 50M transactions.)
 */
export async function countRowsWrittenSince(client: Client, sinceXid: string): Promise<WrittenRows[]> {
  const out: WrittenRows[] = [];
  for (const t of await listTables(client)) {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${quoteQualified(t.schema, t.name)} WHERE age(xmin) <= (txid_current() - $1::bigint)`,
      [sinceXid],
    );
    if (Number(rows[0].n) > 0) out.push({ table: t.display, written: Number(rows[0].n) });
  }
  return out;
}

/**
 * Planner statistics for every table nothing has analyzed yet (pg_restore gathers none; autovacuum
 * usually does within a minute). Returns how many tables it analyzed.
 */
export async function analyzeWhereMissing(client: Client): Promise<number> {
  const { rows } = await client.query<{ schema: string; name: string }>(
    `SELECT schemaname AS schema, relname AS name FROM pg_stat_user_tables WHERE last_analyze IS NULL AND last_autoanalyze IS NULL`,
  );
  for (const t of rows) await client.query(`ANALYZE ${quoteQualified(t.schema, t.name)}`);
  return rows.length;
}

export interface TableColumns {
  readonly schema: string;
  readonly name: string;
  readonly columns: ReadonlyArray<string>;
}

/**
 * Every user table that can be published with its stored (non-generated) columns, keyed by display
 * name: for publication column lists. Unlogged tables are left out (PostgreSQL refuses to publish
 * them: "cannot add relation ... to publication"); the flips copy their rows (flip-unlogged.ts).
 */
export async function tableColumns(client: Client): Promise<Map<string, TableColumns>> {
  const { rows } = await client.query<{ schema: string; name: string; columns: string[] }>(
    `SELECT n.nspname AS schema, c.relname AS name, array_agg(a.attname::text ORDER BY a.attnum) AS columns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' AND NOT c.relispartition AND ${USER_NAMESPACE} AND ${NOT_EXTENSION('c.oid')}
      GROUP BY 1, 2`,
  );
  return new Map(rows.map((r) => [displayName(r.schema, r.name), r]));
}

/** Transactions open on this database for longer than `seconds`, not ours: they would hold a PAUSE. */
export async function longTransactions(client: Client, seconds: number): Promise<Array<{ pid: number; seconds: number; who: string }>> {
  const { rows } = await client.query<{ pid: number; seconds: number; who: string }>(
    `SELECT pid, extract(epoch FROM now() - xact_start)::float8 AS seconds, coalesce(usename, '?') || ' ' || coalesce(application_name, '') AS who
       FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
        AND xact_start < now() - make_interval(secs => $1) AND application_name NOT LIKE 'bluegreen%'
      ORDER BY xact_start`,
    [seconds],
  );
  return rows;
}

export interface MaterializedViewRefresh {
  readonly view: string;
  readonly ms: number;
  readonly concurrently: boolean;
}

/**
 * Refreshes the materialized views of the connected database, each after the materialized views its
 * query reads (through views at any depth), concurrently where a unique index on plain columns allows
 * it (and the view has data), so the side traffic goes to does not serve them as of the clone. A view
 * that should stay unpopulated (`populated`, by display name: blue's for a clone; the side's own by
 * default) is left so, and so is every view reading one (see core/materialized-views.ts).
 */
export async function refreshMaterializedViews(
  client: Client,
  populated?: ReadonlyMap<string, boolean>,
): Promise<MaterializedViewRefresh[]> {
  const { rows } = await client.query<{
    schema: string;
    name: string;
    view: string;
    populated: boolean;
    concurrent: boolean;
    reads: Array<{ schema: string; name: string }>;
  }>(
    `WITH RECURSIVE edges AS (
       SELECT DISTINCT r.ev_class AS rel, d.refobjid AS ref
         FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
        WHERE d.refobjid <> r.ev_class
     ), reach AS (
       -- From each materialized view through plain views, stopping at the next materialized view.
       SELECT e.rel AS view, e.ref FROM edges e JOIN pg_class c ON c.oid = e.rel WHERE c.relkind = 'm'
       UNION
       SELECT r.view, e.ref FROM reach r JOIN pg_class c ON c.oid = r.ref AND c.relkind = 'v' JOIN edges e ON e.rel = r.ref
     )
     SELECT n.nspname AS schema, c.relname AS name, format('%I.%I', n.nspname, c.relname) AS view, c.relispopulated AS populated,
            c.relispopulated AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL) AS concurrent,
            coalesce((SELECT json_agg(json_build_object('schema', rn.nspname, 'name', rc.relname))
                        FROM reach x JOIN pg_class rc ON rc.oid = x.ref AND rc.relkind = 'm' JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                       WHERE x.view = c.oid), '[]') AS reads
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'm' AND ${USER_NAMESPACE} AND ${NOT_EXTENSION('c.oid')} ORDER BY 1, 2`,
  );
  const byKey = new Map(rows.map((v) => [displayName(v.schema, v.name), v]));
  const plan = refreshPlan(
    rows.map((v) => {
      const key = displayName(v.schema, v.name);
      return {
        key,
        populated: populated ? (populated.get(key) ?? false) : v.populated,
        reads: v.reads.map((r) => displayName(r.schema, r.name)),
      };
    }),
  );
  const out: MaterializedViewRefresh[] = [];
  for (const key of plan.refresh) {
    const v = byKey.get(key)!;
    const start = performance.now();
    await client.query(`REFRESH MATERIALIZED VIEW ${v.concurrent ? 'CONCURRENTLY ' : ''}${quoteQualified(v.schema, v.name)}`);
    out.push({ view: v.view, ms: Math.round(performance.now() - start), concurrently: v.concurrent });
  }
  return out;
}

/** The materialized views of the connected database, by display name, with whether they hold data. */
export async function materializedViews(client: Client): Promise<Map<string, { schema: string; name: string; populated: boolean }>> {
  const { rows } = await client.query<{ schema: string; name: string; populated: boolean }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relispopulated AS populated FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'm' AND ${USER_NAMESPACE} AND ${NOT_EXTENSION('c.oid')} ORDER BY 1, 2`,
  );
  return new Map(rows.map((r) => [displayName(r.schema, r.name), r]));
}

/** Indexes that sort text by a collation (`schema.name`; the database's default when none): the ones to REINDEX when its library version changes. */
export async function indexesOnCollation(client: Client, collation?: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT DISTINCT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE (CASE WHEN $1::text IS NULL THEN 100::oid
                  ELSE (SELECT co.oid FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE format('%I.%I', cn.nspname, co.collname) = $1) END) = ANY (i.indcollation::oid[])
        AND ${USER_NAMESPACE} ORDER BY 1`,
    [collation ?? null],
  );
  return rows.map((r) => r.name);
}
