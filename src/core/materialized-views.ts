/**
 * In which order materialized views can be refreshed, and which stay empty: a view's query may read
 * another materialized view through plain views, and REFRESH fails on one whose source "has not been
 * populated". pg_dump orders its MATERIALIZED VIEW DATA entries the same way and leaves a view
 * unpopulated when blue's is, or when one it reads is left so (it could not be filled anyway).
 */

/**
 * One materialized view, by a key the caller chooses (its display name), and the materialized views its
 * query reads, through views at any depth.
 */
export interface MaterializedViewNode {
  readonly key: string;
  /** Whether it should hold data (blue's `relispopulated` for a clone, the side's own otherwise). */
  readonly populated: boolean;
  readonly reads: ReadonlyArray<string>;
}

export interface RefreshPlan {
  /** Every view to fill, each after every view it reads. */
  readonly refresh: ReadonlyArray<string>;
  /** Views left unpopulated: not populated where they come from, or reading one that is not. */
  readonly leftEmpty: ReadonlyArray<string>;
}

/** Orders `views` (depth first, by key for a stable plan); a read of a view not in the list is ignored (another schema's, say). */
export function refreshPlan(views: ReadonlyArray<MaterializedViewNode>): RefreshPlan {
  const byKey = new Map(views.map((v) => [v.key, v]));
  const filled = new Map<string, boolean>();
  const refresh: string[] = [];
  const leftEmpty: string[] = [];
  const visiting = new Set<string>();
  const visit = (key: string): boolean => {
    const known = filled.get(key);
    if (known !== undefined) return known;
    const view = byKey.get(key)!;
    // PostgreSQL forbids cycles between views; a cycle here would be a catalog read mid-DDL: stop, not loop.
    if (visiting.has(key)) return false;
    visiting.add(key);
    let ok = view.populated;
    for (const source of [...view.reads].sort()) {
      if (source !== key && byKey.has(source) && !visit(source)) ok = false;
    }
    visiting.delete(key);
    filled.set(key, ok);
    (ok ? refresh : leftEmpty).push(key);
    return ok;
  };
  for (const v of [...views].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) visit(v.key);
  return { refresh, leftEmpty };
}
