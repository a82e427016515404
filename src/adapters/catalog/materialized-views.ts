/** Materialized views: which hold data, and refreshing them in dependency order so a side does not serve them stale. */
import { refreshPlan } from '../../core/materialized-views.js';
import { displayName, quoteQualified } from '../../core/quote.js';
import type { Client } from '../pg.js';
import { NOT_EXTENSION, USER_NAMESPACE } from './user-schemas.js';

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
         FROM pg_rewrite r
         JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
        WHERE d.refobjid <> r.ev_class
     ), reach AS (
       -- From each materialized view through plain views, stopping at the next materialized view.
       SELECT e.rel AS view, e.ref FROM edges e JOIN pg_class c ON c.oid = e.rel WHERE c.relkind = 'm'
       UNION
       SELECT r.view, e.ref FROM reach r JOIN pg_class c ON c.oid = r.ref AND c.relkind = 'v' JOIN edges e ON e.rel = r.ref
     )
     SELECT n.nspname AS schema, c.relname AS name, format('%I.%I', n.nspname, c.relname) AS view,
            c.relispopulated AS populated,
            c.relispopulated AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique
                                            AND i.indpred IS NULL AND i.indexprs IS NULL) AS concurrent,
            coalesce((SELECT json_agg(json_build_object('schema', rn.nspname, 'name', rc.relname))
                        FROM reach x JOIN pg_class rc ON rc.oid = x.ref AND rc.relkind = 'm'
                        JOIN pg_namespace rn ON rn.oid = rc.relnamespace
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
    `SELECT n.nspname AS schema, c.relname AS name, c.relispopulated AS populated
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'm' AND ${USER_NAMESPACE} AND ${NOT_EXTENSION('c.oid')} ORDER BY 1, 2`,
  );
  return new Map(rows.map((r) => [displayName(r.schema, r.name), r]));
}
