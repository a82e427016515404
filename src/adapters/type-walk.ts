/**
 * What a column's type holds, at any depth: an array's elements, a domain's base type, a composite's
 * attributes, a range's subtype, a multirange's range. Two answers depend on it: which values
 * PostgreSQL hashes by an OID (compare must hash those as text) and which values travel in binary COPY
 * as something only blue understands (the streaming clone must send those as text).
 */
import { versionFeatures } from '../core/versions.js';
import { type Client, serverMajor } from './pg.js';

/** The reg* aliases (regclass, regtype, regproc...): the value is an object's OID, its text form the object's name. */
const OID_ALIAS = `(t.typnamespace = 'pg_catalog'::regnamespace AND t.typname LIKE 'reg%')`;

/** Hashed by an OID that differs between two databases holding the same value: enums (their label's OID) and the reg* aliases. */
export const HASHED_BY_OID = `(t.typtype = 'e' OR ${OID_ALIAS})`;

/**
 * Not to be sent in binary from one database to another: the reg* aliases (their binary form is blue's
 * OID, which names something else or nothing on green; their text form is a name green resolves) and
 * base types of extensions or C code (oid ≥ 16384): green may run another version of the extension.
 */
export const NOT_PORTABLE_IN_BINARY = `(${OID_ALIAS} OR (t.typtype = 'b' AND t.oid >= 16384))`;

/**
 * The types among `roots` (type names or OIDs, as text) that are, or hold at any depth, a type matching
 * `predicate` (an SQL condition over pg_type `t`). One query whatever the number of roots.
 */
export async function typesHolding(client: Client, roots: ReadonlyArray<string>, predicate: string): Promise<Set<string>> {
  if (!roots.length) return new Set();
  // Multiranges reach their range's subtype through pg_range.rngmultitypid.
  const multirange = versionFeatures(await serverMajor(client)).multiranges
    ? `UNION ALL SELECT r.rngsubtype FROM pg_range r WHERE t.typtype = 'm' AND r.rngmultitypid = t.oid`
    : '';
  const { rows } = await client.query<{ root: string }>(
    `WITH RECURSIVE walk(root, oid) AS (
        SELECT r.root, r.root::regtype::oid FROM unnest($1::text[]) AS r(root)
        UNION
        SELECT walk.root, inside.oid FROM walk JOIN pg_type t ON t.oid = walk.oid
          CROSS JOIN LATERAL (
            SELECT t.typelem AS oid WHERE t.typelem <> 0
            UNION ALL SELECT t.typbasetype WHERE t.typtype = 'd'
            UNION ALL SELECT a.atttypid FROM pg_attribute a
                       WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
            UNION ALL SELECT r.rngsubtype FROM pg_range r WHERE t.typtype = 'r' AND r.rngtypid = t.oid
            ${multirange}
          ) AS inside
      )
      SELECT DISTINCT walk.root FROM walk JOIN pg_type t ON t.oid = walk.oid WHERE ${predicate}`,
    [roots],
  );
  return new Set(rows.map((r) => r.root));
}
