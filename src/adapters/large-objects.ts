/**
 * Large objects: logical replication does not carry them and a schema-only dump holds none, so the
 * tool copies them itself (the streaming clone, then every flip) and compares them. Each is read
 * from pg_largeobject page by page (superuser, as the tool is) and written with lo_put at the same
 * offsets, so both sides hold the same pages; owner, ACL and comment are set by a temporary function
 * that takes them as parameters. A fingerprint per object (its pages' hashes, owner, ACL, comment)
 * tells what differs.
 */
import { quoteLiteral } from '../core/quote.js';
import type { Client } from './pg.js';

export interface LargeObject {
  readonly oid: string;
  readonly owner: string;
  readonly acl: string | null;
  readonly comment: string | null;
  /** Pages holding data. */
  readonly pages: number;
  /**
   * md5 over each page's number and md5, in page order. Empty pages are left out: lo_truncate at a
   * page boundary leaves one to mark the end, which reads like nothing and which lo_put never writes.
   */
  readonly hash: string;
}

/** Every large object with its fingerprint. Reads every page once (hashing them inside PostgreSQL). */
export async function readLargeObjects(client: Client): Promise<Map<string, LargeObject>> {
  const { rows } = await client.query<LargeObject>(
    `SELECT m.oid::text AS oid, pg_get_userbyid(m.lomowner)::text AS owner, m.lomacl::text AS acl,
            obj_description(m.oid, 'pg_largeobject') AS comment, coalesce(p.pages, 0) AS pages, coalesce(p.hash, '') AS hash
       FROM pg_largeobject_metadata m
       LEFT JOIN (SELECT loid, count(*)::int AS pages, md5(string_agg(pageno::text || ':' || md5(data), ',' ORDER BY pageno)) AS hash
                    FROM pg_largeobject WHERE length(data) > 0 GROUP BY loid) p ON p.loid = m.oid
      ORDER BY m.oid`,
  );
  return new Map(rows.map((r) => [r.oid, r]));
}

/** The oids of every large object (no page read): what a copy by pg_dump holds. */
export async function largeObjectOids(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ oid: string }>(`SELECT oid::text AS oid FROM pg_largeobject_metadata ORDER BY oid`);
  return rows.map((r) => r.oid);
}

/** How two large objects with the same oid differ (none: equal). */
export function largeObjectDifference(a: LargeObject, b: LargeObject): string[] {
  const out: string[] = [];
  if (a.pages !== b.pages || a.hash !== b.hash) out.push('content');
  if (a.owner !== b.owner) out.push('owner');
  if ((a.acl ?? '') !== (b.acl ?? '')) out.push('acl');
  if ((a.comment ?? '') !== (b.comment ?? '')) out.push('comment');
  return out;
}

/** A transaction on `client` inside an exported snapshot (none: a fresh one), where the copy reads. */
export async function beginReadAt(client: Client, snapshot?: string): Promise<void> {
  await client.query(
    ['BEGIN ISOLATION LEVEL REPEATABLE READ', snapshot ? `SET TRANSACTION SNAPSHOT ${quoteLiteral(snapshot)}` : '']
      .filter(Boolean)
      .join('; '),
  );
}

const APPLY_META = `
CREATE OR REPLACE FUNCTION pg_temp.bluegreen_large_object_meta(oids oid[], owners text[], acls text[], comments text[]) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  g record;
BEGIN
  FOR i IN 1 .. coalesce(array_length(oids, 1), 0) LOOP
    EXECUTE format('ALTER LARGE OBJECT %s OWNER TO %I', oids[i], owners[i]);
    IF acls[i] IS NOT NULL THEN
      EXECUTE format('REVOKE ALL ON LARGE OBJECT %s FROM %I', oids[i], owners[i]);
      FOR g IN SELECT a.privilege_type, a.is_grantable,
                      CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee
                 FROM aclexplode(acls[i]::aclitem[]) a LOOP
        EXECUTE format('GRANT %s ON LARGE OBJECT %s TO %s%s', g.privilege_type, oids[i], g.grantee,
                       CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
      END LOOP;
    END IF;
    EXECUTE format('COMMENT ON LARGE OBJECT %s IS %L', oids[i], comments[i]);
  END LOOP;
END
$fn$`;

/** Pages per round trip (about 4 MB). */
const PAGES_PER_BATCH = 2000;

/**
 * Copies the listed large objects from `source` (read in its current transaction: the caller opens it
 * at the snapshot it wants) to `target`, replacing any there, in one transaction on the target; and
 * unlinks `unlink` there. Returns the bytes copied.
 */
export async function copyLargeObjects(
  source: Client,
  target: Client,
  oids: ReadonlyArray<string>,
  unlink: ReadonlyArray<string> = [],
): Promise<number> {
  if (!oids.length && !unlink.length) return 0;
  const { rows: meta } = await source.query<{ oid: string; owner: string; acl: string | null; comment: string | null; page: number }>(
    `SELECT m.oid::text AS oid, pg_get_userbyid(m.lomowner)::text AS owner, m.lomacl::text AS acl,
            obj_description(m.oid, 'pg_largeobject') AS comment,
            current_setting('block_size')::int / 4 AS page
       FROM pg_largeobject_metadata m WHERE m.oid = ANY ($1::oid[]) ORDER BY m.oid`,
    [oids],
  );
  const present = meta.map((m) => m.oid);
  let bytes = 0;
  await target.query(`BEGIN; ${APPLY_META}`);
  try {
    // Replaced whole: unlinked and made again at the same oid, so no page of the old one is left.
    await target.query(
      `SELECT lo_unlink(o) FROM unnest($1::oid[]) o WHERE EXISTS (SELECT 1 FROM pg_largeobject_metadata m WHERE m.oid = o)`,
      [[...present, ...unlink]],
    );
    await target.query(`SELECT lo_create(o) FROM unnest($1::oid[]) o`, [present]);
    const pageSize = meta[0]?.page ?? 2048;
    let after: [string, number] = ['0', -1];
    for (;;) {
      const { rows } = await source.query<{ loid: string; pageno: number; data: Buffer }>(
        `SELECT loid::text AS loid, pageno, data FROM pg_largeobject WHERE loid = ANY ($1::oid[]) AND (loid, pageno) > ($2::oid, $3::int)
          ORDER BY loid, pageno LIMIT ${PAGES_PER_BATCH}`,
        [present, after[0], after[1]],
      );
      if (!rows.length) break;
      await target.query(`SELECT count(lo_put(l, p::bigint * $4, d)) FROM unnest($1::oid[], $2::int[], $3::bytea[]) AS u(l, p, d)`, [
        rows.map((r) => r.loid),
        rows.map((r) => r.pageno),
        rows.map((r) => r.data),
        pageSize,
      ]);
      for (const r of rows) bytes += r.data.length;
      const last = rows[rows.length - 1];
      after = [last.loid, last.pageno];
      if (rows.length < PAGES_PER_BATCH) break;
    }
    await target.query(`SELECT pg_temp.bluegreen_large_object_meta($1::oid[], $2::text[], $3::text[], $4::text[])`, [
      present,
      meta.map((m) => m.owner),
      meta.map((m) => m.acl),
      meta.map((m) => m.comment),
    ]);
    await target.query('COMMIT');
  } catch (error) {
    await target.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return bytes;
}

/**
 * The pre-pause state a flip checks inside its pause: kept in a temporary table of the source's
 * session (read in the caller's transaction, so it matches what was copied), with the oldest
 * transaction that copy might not have seen.
 */
export async function rememberLargeObjects(source: Client): Promise<string> {
  await source.query(
    `DROP TABLE IF EXISTS pg_temp.bluegreen_large_objects_before;
     CREATE TEMP TABLE bluegreen_large_objects_before AS
       SELECT m.oid, coalesce((SELECT count(*) FROM pg_largeobject p WHERE p.loid = m.oid), 0)::int AS pages,
              EXISTS (SELECT 1 FROM pg_description d WHERE d.objoid = m.oid AND d.classoid = 'pg_largeobject'::regclass) AS commented
         FROM pg_largeobject_metadata m`,
  );
  const { rows } = await source.query<{ horizon: string }>(
    `SELECT (txid_snapshot_xmin(txid_current_snapshot()) % 4294967296)::text AS horizon`,
  );
  return rows[0].horizon;
}

/**
 * Inside the pause, one statement: the large objects changed since `rememberLargeObjects` (any page,
 * the metadata or the comment written by a transaction the copy may not have seen, a page count that
 * moved: a truncate deletes pages and writes none; a comment removed) and those unlinked since.
 */
export async function largeObjectsChangedSince(source: Client, horizon: string): Promise<{ changed: string[]; gone: string[] }> {
  const { rows } = await source.query<{ oid: string; gone: boolean }>(
    `WITH pages AS (SELECT loid, count(*)::int AS pages, bool_or(age(xmin) <= age($1::xid)) AS written FROM pg_largeobject GROUP BY loid),
     now AS (SELECT m.oid, coalesce(p.pages, 0) AS pages,
                    coalesce(p.written, false) OR age(m.xmin) <= age($1::xid) OR coalesce(d.written, false) AS written,
                    d.objoid IS NOT NULL AS commented
               FROM pg_largeobject_metadata m LEFT JOIN pages p ON p.loid = m.oid
               LEFT JOIN (SELECT objoid, age(xmin) <= age($1::xid) AS written FROM pg_description
                           WHERE classoid = 'pg_largeobject'::regclass AND objsubid = 0) d ON d.objoid = m.oid)
     SELECT coalesce(n.oid, b.oid)::text AS oid, n.oid IS NULL AS gone
       FROM now n FULL JOIN pg_temp.bluegreen_large_objects_before b ON b.oid = n.oid
      WHERE n.oid IS NULL OR b.oid IS NULL OR n.written OR n.pages <> b.pages OR n.commented <> b.commented
      ORDER BY 1`,
    [horizon],
  );
  return { changed: rows.filter((r) => !r.gone).map((r) => r.oid), gone: rows.filter((r) => r.gone).map((r) => r.oid) };
}

/** `123, 456 and 7 more`: oids as an operator reads them. */
export function nameOids(oids: ReadonlyArray<string>, max = 10): string {
  return oids.length > max ? `${oids.slice(0, max).join(', ')} and ${oids.length - max} more` : oids.join(', ');
}
