/** The schema as a flat map of object → definition: what schema diffs and drift checks compare. */
import { enumDefinition, type SchemaSnapshot } from '../../core/schema-diff.js';
import { normaliseViewDefinition } from '../../core/view-definition.js';
import { databaseLevelEntries } from '../database-level.js';
import type { Client } from '../pg.js';
import { GUARD_TRIGGER } from '../write-guard.js';
import { withCatalogSearchPath } from './search-path.js';
import { NOT_EXTENSION, USER_NAMESPACE } from './user-schemas.js';

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
            CASE WHEN c.relispartition THEN (SELECT format(' partition of %I.%I ', pn.nspname, p.relname)
                                               FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                                               JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid)
                                            || pg_get_expr(c.relpartbound, c.oid)
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
      WHERE k.contype <> 'n' AND k.conparentid = 0 AND (k.conislocal OR k.coninhcount = 0)
        AND ${USER_NAMESPACE} AND ${NOT_EXTENSION('c.oid')}`,
  );
  for (const r of constraints.rows) snapshot[`constraint ${r.key}`] = r.def;
  const indexes = await client.query<{ key: string; def: string }>(
    `SELECT format('%I.%I', n.nspname, ic.relname) AS key,
            regexp_replace(pg_get_indexdef(i.indexrelid), '^CREATE (UNIQUE )?INDEX \\S+ ', 'CREATE \\1INDEX ') AS def
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
      WHERE NOT ic.relispartition AND ${USER_NAMESPACE} AND ${NOT_EXTENSION('i.indrelid')}`,
  );
  for (const r of indexes.rows) snapshot[`index ${r.key}`] = r.def;
  const sequences = await client.query<{ key: string; def: string }>(
    `SELECT format('%I.%I', schemaname, sequencename) AS key,
            format('%s increment %s min %s max %s%s', data_type, increment_by, min_value, max_value,
                   CASE WHEN cycle THEN ' cycle' ELSE '' END) AS def
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
