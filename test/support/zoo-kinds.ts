/**
 * The README's "What is carried" table, read by the zoo tests so it cannot drift from the code: each
 * kind of object the zoo makes (a row of the table, named exactly) with a probe that reads that kind
 * in the zoo's schema on one side. A clone column saying "carried" means the probe reads the same on
 * green as on blue; "not carried" means it does not.
 */
import { readFileSync } from 'node:fs';
import { quoteIdent } from '../../src/core/quote.js';
import { ZOO_SCHEMA } from './zoo.js';

/** The table's columns, as its header names them. */
export const PATHS = ['clone, streaming', 'clone, dumping', 'replication to the switchover', 'a flip', "the window's sync-schema"] as const;
export type CarryPath = (typeof PATHS)[number];

/** Each kind's cell per path, by kind, from README.md. */
export function readCarriedTable(readme = new URL('../../README.md', import.meta.url)): Map<string, Record<CarryPath, string>> {
  const lines = readFileSync(readme, 'utf8').split('\n');
  const start = lines.findIndex((l, i) => l.startsWith('| kind |') && lines.slice(0, i).some((h) => h === '## What is carried'));
  if (start < 0) throw new Error('README.md has no "What is carried" table');
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('|'));
  const table = lines.slice(start, end < 0 ? undefined : end);
  const [header, ...rows] = table.map((l) => l.slice(2, -2).split(' | '));
  if (header.join(' | ') !== ['kind', ...PATHS].join(' | ')) throw new Error(`README's "What is carried" header is ${header.join(' | ')}`);
  return new Map(rows.filter((r) => !/^-+$/.test(r[0])).map((r) => [r[0], Object.fromEntries(PATHS.map((p, i) => [p, r[i + 1]])) as Record<CarryPath, string>]));
}

const S = quoteIdent(ZOO_SCHEMA);
const NS = `(SELECT oid FROM pg_namespace WHERE nspname = $1)`;
/** An ACL's items in one order: a restore may grant them in another, which means the same. */
const acl = (column: string) => `(SELECT array_agg(x::text ORDER BY x::text) FROM unnest(${column}) x)::text`;
const IN_ZOO = `(SELECT oid FROM pg_class WHERE relnamespace = ${NS})`;

/**
 * Every kind the zoo makes, with its probe ($1 is the zoo's schema). The rows' probes read tables no
 * writer touches during the tests' clones (the writers' own tables are compared row by row elsewhere).
 */
export const ZOO_KINDS: Readonly<Record<string, string>> = {
  'rows of tables with a primary key': `SELECT id, email::text, name FROM ${S}.customers ORDER BY id`,
  'rows of tables without a primary key': `SELECT 'full' AS t, a, b FROM ${S}."no key full" UNION ALL SELECT 'index', a, b FROM ${S}."no key index" ORDER BY 1, 2, 3`,
  'partitioned tables (range, list, hash, two levels, default)': `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound, p.relname AS parent FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid JOIN pg_class p ON p.oid = i.inhparent WHERE c.relnamespace = ${NS} AND c.relispartition AND c.relkind IN ('r', 'p') ORDER BY 1`,
  // Columns by name: a child whose parent gained a column later has another order after any restore (the README says so).
  'inheritance children and typed tables': `SELECT c.relname, a.attname, a.attinhcount, t.typname AS of_type FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 LEFT JOIN pg_type t ON t.oid = c.reloftype WHERE c.relnamespace = ${NS} AND c.relname IN ('car', 'people') ORDER BY 1, 2`,
  'unlogged tables': `SELECT c.relname, c.relpersistence, (SELECT count(*) FROM ${S}.cache) AS n FROM pg_class c WHERE c.relnamespace = ${NS} AND c.relpersistence = 'u' ORDER BY 1`,
  'large objects': `SELECT d.id, md5(lo_get(d.body)) AS body FROM ${S}.documents d ORDER BY 1`,
  sequences: `SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = $1 AND sequencename IN ('free "seq"', 'made_id_seq', 'kinds_id_seq') ORDER BY 1`,
  'generated and identity columns': `SELECT a.attname, a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid) AS expr FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid IN ${IN_ZOO} AND a.attnum > 0 AND (a.attidentity <> '' OR a.attgenerated <> '') ORDER BY 1`,
  'enums, domains, composite, range and multirange types': `SELECT t.typname, t.typtype, (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder)::text FROM pg_enum e WHERE e.enumtypid = t.oid) AS labels, (SELECT array_agg(pg_get_constraintdef(k.oid) ORDER BY k.conname)::text FROM pg_constraint k WHERE k.contypid = t.oid) AS checks FROM pg_type t WHERE t.typnamespace = ${NS} AND t.typtype IN ('e', 'd', 'c', 'r', 'm') ORDER BY 1`,
  'indexes (btree, hash, gin, gist, brin, spgist, partial, expression, INCLUDE)': `SELECT c.relname, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = ${NS} ORDER BY 1`,
  'constraints (check, foreign key, exclusion, deferrable, NOT VALID)': `SELECT k.conrelid::regclass::text AS rel, k.conname, pg_get_constraintdef(k.oid) AS def, k.convalidated, k.condeferrable FROM pg_constraint k WHERE k.connamespace = ${NS} AND k.contype <> 'n' ORDER BY 1, 2`,
  'views and rules': `SELECT viewname AS name, definition FROM pg_views WHERE schemaname = $1 UNION ALL SELECT rulename, definition FROM pg_rules WHERE schemaname = $1 ORDER BY 1`,
  'materialized views': `SELECT matviewname, ispopulated, definition FROM pg_matviews WHERE schemaname = $1 ORDER BY 1`,
  'triggers (plain, ENABLE REPLICA, ENABLE ALWAYS, on a partitioned table)': `SELECT t.tgrelid::regclass::text AS rel, t.tgname, t.tgenabled, pg_get_triggerdef(t.oid) AS def FROM pg_trigger t WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND t.tgrelid IN ${IN_ZOO} ORDER BY 1, 2`,
  comments: `SELECT d.description, count(*)::int AS n FROM pg_description d WHERE d.objoid >= 16384 AND d.classoid <> 'pg_publication'::regclass AND d.description NOT LIKE 'bluegreen%' GROUP BY 1 ORDER BY 1`,
  'grants (table, column, default privileges)': `SELECT c.relname AS name, ${acl('c.relacl')} AS acl FROM pg_class c WHERE c.relnamespace = ${NS} AND c.relacl IS NOT NULL UNION ALL SELECT c.relname || '.' || a.attname, ${acl('a.attacl')} FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = ${NS} AND a.attacl IS NOT NULL UNION ALL SELECT 'default ' || d.defaclobjtype::text, ${acl('d.defaclacl')} FROM pg_default_acl d WHERE d.defaclnamespace = ${NS} ORDER BY 1`,
  'row-level security (FORCE) and policies': `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, p.policyname, p.qual FROM pg_class c JOIN pg_policies p ON p.schemaname = $1 AND p.tablename = c.relname WHERE c.relnamespace = ${NS} ORDER BY 1, 4`,
  roles: `SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = 'Zoo Reader'`,
  'extensions (citext, hstore, pg_trgm)': `SELECT extname FROM pg_extension WHERE extname IN ('citext', 'hstore', 'pg_trgm') ORDER BY 1`,
  'collations (ICU)': `SELECT collname, collprovider FROM pg_collation WHERE collnamespace = ${NS} ORDER BY 1`,
  'event triggers': `SELECT evtname, evtevent, evtenabled FROM pg_event_trigger WHERE evtname NOT LIKE 'bluegreen%' ORDER BY 1`,
  "the application's own publications": `SELECT pubname, (SELECT array_agg(tablename::text ORDER BY tablename) FROM pg_publication_tables t WHERE t.pubname = p.pubname)::text AS tables FROM pg_publication p WHERE pubname NOT LIKE 'bluegreen%' ORDER BY 1`,
};

/**
 * What the README says of each zoo kind on a clone path, against what the probes read on both sides:
 * one line per kind whose probe disagrees with its cell (empty when the table tells the truth).
 */
export async function cloneClaimsBrokenOn(
  path: 'clone, streaming' | 'clone, dumping',
  read: (side: 'blue' | 'green', sql: string) => Promise<unknown[]>,
): Promise<{ broken: string[]; checked: number }> {
  const table = readCarriedTable();
  const broken: string[] = [];
  let checked = 0;
  for (const [kind, probe] of Object.entries(ZOO_KINDS)) {
    const cell = table.get(kind)?.[path];
    if (!cell) {
      broken.push(`${kind}: no row in README's "What is carried"`);
      continue;
    }
    let blue: unknown[], green: unknown[];
    try {
      [blue, green] = [await read('blue', probe), await read('green', probe)];
    } catch (error) {
      broken.push(`${kind}: the probe failed: ${(error as Error).message}`);
      continue;
    }
    if (!blue.length) broken.push(`${kind}: the probe reads nothing on blue`);
    const same = JSON.stringify(blue) === JSON.stringify(green);
    const only = (a: unknown[], b: unknown[]) => a.map((r) => JSON.stringify(r)).filter((r) => !b.some((x) => JSON.stringify(x) === r));
    if (cell.startsWith('carried') && !same) broken.push(`${kind}: README says "${cell}", green differs: only on blue ${only(blue, green).join(', ')}; only on green ${only(green, blue).join(', ')}`);
    else if (cell.startsWith('not carried') && same) broken.push(`${kind}: README says "${cell}", but green has it as blue does`);
    else if (!cell.startsWith('carried') && !cell.startsWith('not carried')) broken.push(`${kind}: README's cell "${cell}" says neither carried nor not carried`);
    checked++;
  }
  return { broken, checked };
}
