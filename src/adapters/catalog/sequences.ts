/** Reading and setting sequences across sides within PostgreSQL's lock table: at the clone, before and inside the pause. */
import { aheadOf, furthest, isPast, type SequenceShape } from '../../core/sequences.js';
import { type Client, queryOne } from '../pg.js';
import { USER_NAMESPACE } from './user-schemas.js';

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
    `SELECT (current_setting('max_locks_per_transaction')::int
             * (current_setting('max_connections')::int + current_setting('max_prepared_transactions')::int))::int AS slots`,
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

/**
 * The application's sequences with their shape (no values: listing takes no lock on them) and the
 * fingerprint of the set, in one snapshot.
 */
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
       FROM (${SEQUENCE_FINGERPRINT}) f
       LEFT JOIN (pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND c.relkind = 'S' AND ${USER_NAMESPACE}
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
      `SELECT t.x::int8::text AS oid,
              CASE WHEN EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.x) THEN pg_sequence_last_value(t.x)::text END AS value
         FROM unnest($1::oid[]) AS t(x)`,
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
             FROM (SELECT t.x, t.threshold, t.down, pg_sequence_last_value(t.x) AS v
                     FROM unnest($1::oid[], $2::int8[], $3::bool[]) AS t(x, threshold, down) OFFSET 0) s
            WHERE s.v IS NOT NULL
              AND (s.threshold IS NULL OR CASE WHEN s.down THEN s.v < s.threshold ELSE s.v > s.threshold END)) m ON true`,
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
      `SELECT count(setval(format('%I.%I', v.schema, v.name)::regclass, v.value, true))
         FROM unnest($1::text[], $2::text[], $3::bigint[]) AS v(schema, name, value)`,
      [part.map((s) => s.schema), part.map((s) => s.name), part.map((s) => s.value)],
    );
  }
}
