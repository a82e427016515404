/**
 * What compare reads beside the schema snapshot to tell true differences from a restore's: the
 * objects PostgreSQL derives (and names) itself, each table's column order, and blue's side of
 * green's integrity findings.
 */
import type { IntegrityFinding } from '../core/compare-model.js';
import { displayName } from '../core/quote.js';
import { checkIntegrity } from './catalog/integrity.js';
import { NOT_EXTENSION, USER_NAMESPACE } from './catalog/user-schemas.js';
import type { Client } from './pg.js';

/**
 * Snapshot keys of objects PostgreSQL makes from a parent's and names itself: constraints cloned onto
 * partitions or onto the tables referencing them (conparentid <> 0; their generated names follow the
 * order things were created in, which no restore repeats), inherited constraints (conislocal false)
 * and indexes that are partitions of a partitioned index. Each follows from its parent, which the
 * diff compares: leaving them out hides nothing.
 */
export async function derivedObjectKeys(client: Client): Promise<Set<string>> {
  const { rows } = await client.query<{ key: string }>(
    `SELECT 'constraint ' || format('%I.%I.%I', n.nspname, c.relname, k.conname) AS key
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE (k.conparentid <> 0 OR NOT k.conislocal) AND ${USER_NAMESPACE}
     UNION ALL
     SELECT 'index ' || format('%I.%I', n.nspname, c.relname)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('i', 'I') AND c.relispartition AND ${USER_NAMESPACE}`,
  );
  return new Set(rows.map((r) => r.key));
}

/** Every table's columns (partitions and inheritance children included) in their order, by display name. */
export async function columnOrders(client: Client): Promise<Map<string, string[]>> {
  const { rows } = await client.query<{ schema: string; name: string; columns: string[] }>(
    `SELECT n.nspname AS schema, c.relname AS name, array_agg(a.attname::text ORDER BY a.attnum) AS columns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE c.relkind IN ('r', 'p') AND ${USER_NAMESPACE} AND ${NOT_EXTENSION('c.oid')}
      GROUP BY 1, 2`,
  );
  return new Map(rows.map((r) => [displayName(r.schema, r.name), r.columns]));
}

/**
 * Blue's integrity findings that can match green's: every invalid constraint and index (catalog
 * reads), but orphans and sequences only where green failed on them, since those cost a scan each
 * and blue may be large and live.
 */
export async function blueIntegrityBeside(blue: Client, green: ReadonlyArray<IntegrityFinding>): Promise<IntegrityFinding[]> {
  // A warning already (sequences that lag by design before a replicate-mode switchover) needs no scan of blue.
  const failing = green.filter((f) => f.severity === 'fail');
  const orphaned = new Set(failing.filter((f) => f.check === 'foreign-key-orphans').map((f) => f.object));
  const behind = new Set(failing.filter((f) => f.check === 'sequence-behind').map((f) => f.object));
  return checkIntegrity(blue, {
    sequencesMayLag: false,
    checkForeignKey: (fk) => orphaned.has(fk.object),
    checkSequence: (sequence) => behind.has(sequence),
  });
}
