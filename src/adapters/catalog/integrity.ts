/** Integrity of one database (invalid constraints and indexes, orphans, sequences behind): what compare checks on both sides. */
import type { IntegrityFinding } from '../../core/compare-model.js';
import { displayName, quoteIdent, quoteQualified } from '../../core/quote.js';
import { isPast } from '../../core/sequences.js';
import type { Client } from '../pg.js';
import { withCatalogSearchPath } from './search-path.js';
import { USER_NAMESPACE } from './user-schemas.js';

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
  return [
    ...(await invalidConstraints(client)),
    ...(await invalidIndexes(client)),
    ...(await foreignKeyOrphans(client, checkForeignKey)),
    ...(await sequencesBehind(client, sequencesMayLag, checkSequence)),
  ];
}

/** Constraints added NOT VALID and never validated: their rows were never checked. */
async function invalidConstraints(client: Client): Promise<IntegrityFinding[]> {
  const invalid = await client.query<{ object: string; identity: string }>(
    `SELECT format('%I.%I.%I', n.nspname, c.relname, k.conname) AS object,
            format('%I.%I ', n.nspname, c.relname) || pg_get_constraintdef(k.oid) AS identity
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT k.convalidated AND k.conparentid = 0 AND ${USER_NAMESPACE}`,
  );
  return invalid.rows.map((r) => ({
    check: 'invalid-constraint',
    object: r.object,
    detail: 'NOT VALID: run ALTER TABLE … VALIDATE CONSTRAINT',
    severity: 'fail',
    identity: r.identity,
  }));
}

/** Indexes left invalid or not ready (a failed CREATE INDEX CONCURRENTLY): the planner does not use them. */
async function invalidIndexes(client: Client): Promise<IntegrityFinding[]> {
  // The identity is the definition without the index's name, as the schema snapshot reads it.
  const badIndexes = await client.query<{ object: string; identity: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS object,
            regexp_replace(pg_get_indexdef(i.indexrelid), '^CREATE (UNIQUE )?INDEX \\S+ ', 'CREATE \\1INDEX ') AS identity
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE (NOT i.indisvalid OR NOT i.indisready) AND ${USER_NAMESPACE}`,
  );
  return badIndexes.rows.map((r) => ({
    check: 'invalid-index',
    object: r.object,
    detail: 'invalid (a failed CREATE INDEX CONCURRENTLY?): REINDEX or drop it',
    severity: 'fail',
    identity: r.identity,
  }));
}

interface ForeignKeyRow {
  readonly object: string;
  readonly definition: string;
  readonly child_schema: string;
  readonly child: string;
  readonly child_cols: string[];
  readonly parent_schema: string;
  readonly parent: string;
  readonly parent_cols: string[];
}

/** Rows whose foreign key points at no row, counted with one anti-join a foreign key (those `checkForeignKey` keeps). */
async function foreignKeyOrphans(client: Client, checkForeignKey: (fk: ForeignKeyRef) => boolean): Promise<IntegrityFinding[]> {
  const fks = await client.query<ForeignKeyRow>(
    `SELECT format('%I.%I.%I', cn.nspname, c.relname, k.conname) AS object, pg_get_constraintdef(k.oid) AS definition,
            cn.nspname AS child_schema, c.relname AS child, pn.nspname AS parent_schema, p.relname AS parent,
            ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, o)
                    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.o)::text[] AS child_cols,
            ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, o)
                    JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.o)::text[] AS parent_cols
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
       JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
      WHERE k.contype = 'f' AND k.conparentid = 0 AND ${USER_NAMESPACE.replace(/n\.nspname/g, 'cn.nspname')}`,
  );
  const findings: IntegrityFinding[] = [];
  for (const fk of fks.rows) {
    if (
      !checkForeignKey({
        object: fk.object,
        child: displayName(fk.child_schema, fk.child),
        parent: displayName(fk.parent_schema, fk.parent),
      })
    )
      continue;
    const orphans = await countOrphans(client, fk);
    if (Number(orphans) > 0) {
      findings.push({
        check: 'foreign-key-orphans',
        object: fk.object,
        detail: `${orphans} rows reference a missing ${displayName(fk.parent_schema, fk.parent)} row`,
        severity: 'fail',
        identity: `${quoteQualified(fk.child_schema, fk.child)} ${fk.definition}: ${orphans} orphans`,
      });
    }
  }
  return findings;
}

/** The child rows (all key columns set) with no parent row: the count as PostgreSQL prints it. */
async function countOrphans(client: Client, fk: ForeignKeyRow): Promise<string> {
  const notNull = fk.child_cols.map((col) => `c.${quoteIdent(col)} IS NOT NULL`).join(' AND ');
  const join = fk.child_cols.map((col, i) => `p.${quoteIdent(fk.parent_cols[i])} = c.${quoteIdent(col)}`).join(' AND ');
  const { rows } = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${quoteQualified(fk.child_schema, fk.child)} c
      WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${quoteQualified(fk.parent_schema, fk.parent)} p WHERE ${join})`,
  );
  return rows[0].n;
}

/** A column a sequence serves, with the sequence's direction. */
interface SequenceUse {
  readonly seq_schema: string;
  readonly seq: string;
  readonly increment: string;
  readonly schema: string;
  readonly tbl: string;
  readonly col: string;
}

/**
 * Each sequence with the columns it serves: the one that owns it (serial, identity) and those whose
 * default draws from it (a sequence shared by several tables; partitions and views left out, the
 * parent's scan covers a partition), as `advanceSequencesPastColumns` sees them.
 */
async function sequenceUses(client: Client): Promise<Map<string, SequenceUse[]>> {
  const { rows } = await client.query<SequenceUse>(
    `WITH uses AS (
       SELECT d.objid AS seq, d.refobjid AS tbl, d.refobjsubid AS attnum FROM pg_depend d
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
       UNION
       SELECT d.refobjid, ad.adrelid, ad.adnum FROM pg_depend d JOIN pg_attrdef ad ON ad.oid = d.objid
         JOIN pg_class r ON r.oid = ad.adrelid AND r.relkind IN ('r', 'p') AND NOT r.relispartition
        WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'n')
     SELECT sn.nspname AS seq_schema, s.relname AS seq, q.seqincrement::text AS increment,
            tn.nspname AS schema, t.relname AS tbl, a.attname AS col
       FROM uses u JOIN pg_class s ON s.oid = u.seq AND s.relkind = 'S' JOIN pg_namespace sn ON sn.oid = s.relnamespace
       JOIN pg_sequence q ON q.seqrelid = s.oid
       JOIN pg_class t ON t.oid = u.tbl JOIN pg_namespace tn ON tn.oid = t.relnamespace
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = u.attnum AND NOT a.attisdropped
      WHERE ${USER_NAMESPACE.replace(/n\.nspname/g, 'sn.nspname')}
      ORDER BY 1, 2, 4, 5, 6`,
  );
  const bySequence = new Map<string, SequenceUse[]>();
  for (const r of rows) {
    const key = displayName(r.seq_schema, r.seq);
    bySequence.set(key, [...(bySequence.get(key) ?? []), r]);
  }
  return bySequence;
}

/** The furthest value along the sequence (the maximum, or the minimum for a descending one) the column holds. */
async function furthestInColumn(client: Client, use: SequenceUse): Promise<string | null> {
  const { rows } = await client.query<{ v: string | null }>(
    `SELECT ${BigInt(use.increment) > 0n ? 'max' : 'min'}(${quoteIdent(use.col)})::text AS v FROM ${quoteQualified(use.schema, use.tbl)}`,
  );
  const v = rows[0]?.v ?? null;
  return v !== null && /^-?\d+$/.test(v) ? v : null;
}

/**
 * Sequences behind the values their columns hold: the next insert would collide.
 *
 * Under live writes the order of the reads decides whether this can be a false alarm. The columns are
 * read first, the sequence after, never the other way: a value visible to the column's scan was handed
 * out by nextval before the inserting transaction committed, so before the scan's snapshot was taken,
 * and the sequence (read later, outside any snapshot: nextval is not transactional, and with CACHE or
 * on a standby its stored value is at or past what was handed out) is at or past it. Read the other way
 * round, a row inserted between the two reads held a value the earlier sequence read had not seen: off
 * by one, one run in a few. So only a value that did not come from this sequence (an explicit id, a
 * setval back) or a sequence that wrapped can put the column ahead: the truly behind, still reported.
 * Direction: a descending sequence is behind when its column holds a lower value. Several columns on
 * one sequence: all are read before it, and the furthest is weighed. A cycling sequence that wrapped
 * sits behind the values from before the wrap whether it wrapped before the reads or between them; the
 * next insert collides once it reaches those (unless they are gone by then), so it is reported as before.
 */
async function sequencesBehind(
  client: Client,
  sequencesMayLag: boolean,
  checkSequence: (sequence: string) => boolean,
): Promise<IntegrityFinding[]> {
  const findings: IntegrityFinding[] = [];
  for (const [object, uses] of await sequenceUses(client)) {
    if (!checkSequence(object)) continue;
    const { seq_schema, seq, increment } = uses[0];
    let furthest: { column: string; value: string } | null = null;
    for (const use of uses) {
      const value = await furthestInColumn(client, use);
      if (value !== null && (furthest === null || isPast(value, furthest.value, increment))) {
        furthest = { column: `${displayName(use.schema, use.tbl)}.${use.col}`, value };
      }
    }
    if (furthest === null) continue;
    // Only now the sequence: after every scan above (see the comment on this function).
    const { rows } = await client.query<{ last_value: string | null }>(
      `SELECT last_value::text AS last_value FROM pg_sequences WHERE schemaname = $1 AND sequencename = $2`,
      [seq_schema, seq],
    );
    if (rows.length === 0) continue; // dropped meanwhile
    const last = rows[0].last_value;
    if (last !== null && !isPast(furthest.value, last, increment)) continue;
    const lag = sequencesMayLag ? ' (synced at switchover)' : '';
    findings.push({
      check: 'sequence-behind',
      object,
      detail: `at ${last ?? 'unused'}, ${furthest.column} reaches ${furthest.value}: the next insert would collide${lag}`,
      severity: sequencesMayLag ? 'warn' : 'fail',
      identity: `${furthest.column} at ${last ?? 'unused'} reaches ${furthest.value}`,
    });
  }
  return findings;
}
