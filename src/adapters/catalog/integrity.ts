/** Integrity of one database (invalid constraints and indexes, orphans, sequences behind): what compare checks on both sides. */
import type { IntegrityFinding } from '../../core/compare-model.js';
import { displayName, quoteIdent, quoteQualified } from '../../core/quote.js';
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

/** Sequences owned by a column whose maximum they have not reached: the next insert would collide. */
async function sequencesBehind(
  client: Client,
  sequencesMayLag: boolean,
  checkSequence: (sequence: string) => boolean,
): Promise<IntegrityFinding[]> {
  const owned = await client.query<{
    seq_schema: string;
    seq: string;
    schema: string;
    tbl: string;
    col: string;
    last_value: string | null;
  }>(
    `SELECT sn.nspname AS seq_schema, s.relname AS seq, tn.nspname AS schema, t.relname AS tbl, a.attname AS col,
            ps.last_value::text AS last_value
       FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' JOIN pg_namespace sn ON sn.oid = s.relnamespace
       JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
       JOIN pg_sequences ps ON ps.schemaname = sn.nspname AND ps.sequencename = s.relname
      WHERE d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND ${USER_NAMESPACE.replace(/n\.nspname/g, 'sn.nspname')}`,
  );
  const findings: IntegrityFinding[] = [];
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
      const lag = sequencesMayLag ? ' (synced at switchover)' : '';
      findings.push({
        check: 'sequence-behind',
        object: displayName(s.seq_schema, s.seq),
        detail: `at ${s.last_value ?? 'unused'}, ${column} reaches ${max}: the next insert would collide${lag}`,
        severity: sequencesMayLag ? 'warn' : 'fail',
        identity: `${column} at ${s.last_value ?? 'unused'} reaches ${max}`,
      });
    }
  }
  return findings;
}
