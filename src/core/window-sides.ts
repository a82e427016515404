/**
 * The two sides as the rollback window reads them: the serving side's schema when it started serving
 * and now, the standby's now, and the lookups the window's rules share (which tables each side has,
 * which are partitions, how deep).
 */
import type { SchemaSnapshot } from './schema-diff.js';
import { entriesOf, shapeOf, tableOf } from './snapshot-keys.js';
import type { Side } from './state.js';
import type { CarryAction, Loss, WindowInputs } from './window.js';

export interface WindowSides {
  readonly from: Side;
  readonly to: Side;
  /** The serving side's schema when it started serving (its schema now when that was not recorded). */
  readonly baseline: SchemaSnapshot;
  readonly fromNow: SchemaSnapshot;
  readonly toNow: SchemaSnapshot;
  readonly published?: ReadonlyMap<string, ReadonlyArray<string> | null>;
  readonly tablesFrom: ReadonlySet<string>;
  readonly tablesTo: ReadonlySet<string>;
  hasPrimaryKey(table: string): boolean;
  /**
   * Partitions are published through their root (publish_via_partition_root): their rows, columns
   * and derived keys belong to the root's reasoning; only membership (made, attached, detached) is theirs.
   */
  isPartition(table: string): boolean;
  /** How many parents above a partition (0 for a table that is none). */
  depth(table: string): number;
}

/** What the window's rules find, in the order they find it (carry actions are ordered afterwards). */
export interface WindowFindings {
  readonly carry: CarryAction[];
  readonly losses: Loss[];
  readonly notes: string[];
}

export function windowSides(input: WindowInputs): WindowSides {
  const { from, to, fromNow, toNow } = input;
  const baseline = input.fromBaseline ?? fromNow;
  const depth = (table: string): number => {
    const parent = shapeOf(fromNow, table)?.partitionOf?.parent;
    return parent && parent !== table ? 1 + depth(parent) : 0;
  };
  return {
    from,
    to,
    baseline,
    fromNow,
    toNow,
    published: input.published,
    tablesFrom: new Set(entriesOf(fromNow, 'table').map((t) => t.name)),
    tablesTo: new Set(entriesOf(toNow, 'table').map((t) => t.name)),
    hasPrimaryKey: (table) => entriesOf(fromNow, 'constraint').some((c) => tableOf(c.name) === table && c.def.startsWith('PRIMARY KEY')),
    isPartition: (table) =>
      !!(shapeOf(fromNow, table)?.partitionOf || shapeOf(toNow, table)?.partitionOf || shapeOf(baseline, table)?.partitionOf),
    depth,
  };
}
