/**
 * The rollback window's verdict, pure: given the schema of the side that serves (when it started
 * serving, and now), the schema of the side that stands by, and what the serving side publishes,
 * what must be carried to the standby side so that a flip to it loses nothing, and what cannot be
 * carried and would be lost.
 *
 * Additive changes on the serving side (a table, a column, an enum value, a sequence, an index, a
 * constraint, a materialized view) are carried. Destructive ones (a dropped or retyped column, a
 * dropped table, a renamed enum value, a relaxed constraint the standby still enforces) are losses:
 * the flip refuses them without --accept-data-loss. A table or column both sides have that the
 * serving side no longer publishes (DROP COLUMN … CASCADE takes the table out of a publication) is
 * re-published and its rows copied again: a coverage repair.
 */
import type { SchemaSnapshot } from './schema-diff.js';
import type { Side } from './state.js';
import {
  carryColumns,
  carryConstraints,
  carryEnums,
  carryIndexes,
  carryMaterializedViews,
  carryRepublish,
  carrySequences,
  carryTables,
  noteTriggers,
} from './window-carry.js';
import { changesSinceServing } from './window-losses.js';
import { type WindowFindings, windowSides } from './window-sides.js';

export {
  indexTable,
  lastPart,
  parseColumn,
  parseKey,
  parseTableDef,
  splitRaw,
  tableOf,
  type TableShape,
  unquote,
} from './snapshot-keys.js';

export type CarryAction =
  | { readonly kind: 'enum'; readonly type: string }
  | { readonly kind: 'enum-value'; readonly type: string; readonly label: string; readonly after?: string }
  | { readonly kind: 'sequence'; readonly sequence: string }
  | { readonly kind: 'table'; readonly table: string }
  /** A partition the standby lacks, made there from its parent (which gives it the inherited keys, indexes and triggers). */
  | { readonly kind: 'partition'; readonly table: string; readonly parent: string; readonly bound: string; readonly depth: number }
  /** A table both sides have that the serving side attached as a partition. */
  | { readonly kind: 'attach'; readonly table: string; readonly parent: string; readonly bound: string; readonly depth: number }
  /** A partition the serving side detached (or dropped): detached on the standby too, its rows kept there. */
  | { readonly kind: 'detach'; readonly table: string; readonly parent: string }
  | { readonly kind: 'column'; readonly table: string; readonly column: string; readonly add: boolean }
  | { readonly kind: 'constraint'; readonly table: string; readonly constraint: string }
  | { readonly kind: 'index'; readonly table: string; readonly index: string }
  | { readonly kind: 'materialized-view'; readonly view: string }
  | { readonly kind: 'republish'; readonly table: string };

export interface Loss {
  /** The object as the schema snapshot names it (`column public.orders.note`). */
  readonly object: string;
  /** What would be lost or break, in an operator's words. */
  readonly what: string;
}

export interface WindowVerdict {
  readonly from: Side;
  readonly to: Side;
  /** What sync-schema carries to the standby side, in the order it must be done. */
  readonly carry: ReadonlyArray<CarryAction>;
  readonly losses: ReadonlyArray<Loss>;
  /** Differences that are neither carried nor lossy (a trigger made on the serving side, say). */
  readonly notes: ReadonlyArray<string>;
}

export interface WindowInputs {
  readonly from: Side;
  readonly to: Side;
  /** The serving side's schema when it started serving (at the clone for blue, at the last flip after). */
  readonly fromBaseline?: SchemaSnapshot;
  readonly fromNow: SchemaSnapshot;
  readonly toNow: SchemaSnapshot;
  /**
   * What the serving side publishes to the standby now, by table (`schema.table` as format('%I.%I')
   * writes it): the column list, or null for every column. Undefined when nothing replicates.
   */
  readonly published?: ReadonlyMap<string, ReadonlyArray<string> | null>;
}

export function assessWindow(input: WindowInputs): WindowVerdict {
  const w = windowSides(input);
  const out: WindowFindings = { carry: [], losses: [], notes: [] };
  // What the serving side took away or changed since it started serving: cannot be carried.
  changesSinceServing(w, out);
  // What the serving side has and the standby lacks: carried, in dependency order.
  carryEnums(w, out);
  carrySequences(w, out);
  const tables = carryTables(w, out);
  carryColumns(w, tables, out);
  carryRepublish(w, out);
  carryConstraints(w, tables, out);
  carryIndexes(w, tables, out);
  carryMaterializedViews(w, out);
  noteTriggers(w, out);
  return { from: w.from, to: w.to, carry: order(out.carry), losses: out.losses, notes: out.notes };
}

const ORDER: ReadonlyArray<CarryAction['kind']> = [
  'enum',
  'enum-value',
  'sequence',
  'table',
  'detach',
  'partition',
  'attach',
  'column',
  'republish',
  'constraint',
  'index',
  'materialized-view',
];

const depthOf = (a: CarryAction) => ('depth' in a ? a.depth : 0);

/**
 * Dependency order: types before the tables that use them, a partition's parent before it (the
 * shallower first), tables before their indexes, indexes last but views.
 */
function order(actions: CarryAction[]): CarryAction[] {
  return actions
    .map((a, i) => ({ a, i }))
    .sort((x, y) => ORDER.indexOf(x.a.kind) - ORDER.indexOf(y.a.kind) || depthOf(x.a) - depthOf(y.a) || x.i - y.i)
    .map((x) => x.a);
}

/** One line per carry action, as `sync-schema --dry-run` and `status` print them. */
export function describeCarry(a: CarryAction): string {
  switch (a.kind) {
    case 'enum':
      return `create enum type ${a.type}`;
    case 'enum-value':
      return `add value '${a.label}' to enum ${a.type}`;
    case 'sequence':
      return `create sequence ${a.sequence}`;
    case 'table':
      return `create table ${a.table}, publish it and copy its rows`;
    case 'column':
      return a.add
        ? `add column ${a.table}.${a.column}, publish it and copy its values by key`
        : `publish column ${a.table}.${a.column} again and copy its values by key`;
    case 'partition':
      return `create partition ${a.table} of ${a.parent} ${a.bound}`;
    case 'attach':
      return `attach ${a.table} to ${a.parent} ${a.bound}`;
    case 'detach':
      return `detach partition ${a.table} from ${a.parent}`;
    case 'republish':
      return `publish table ${a.table} again (it left the publication) and copy its rows afresh`;
    case 'constraint':
      return `add constraint ${a.constraint} on ${a.table}`;
    case 'index':
      return `create index ${a.index} on ${a.table}`;
    case 'materialized-view':
      return `create materialized view ${a.view}`;
  }
}

/** The one-line verdict `status` prints for the next flip. */
export function verdictLine(v: WindowVerdict, direction: 'switchover' | 'rollback'): string {
  if (!v.losses.length) {
    const carried = v.carry.length
      ? ` (sync-schema will carry ${v.carry.length} change${v.carry.length > 1 ? 's' : ''} to ${v.to} first)`
      : '';
    return `${direction}: lossless${carried}`;
  }
  const items = `${v.losses.length} item${v.losses.length > 1 ? 's' : ''}`;
  return `${direction}: would lose data (${items}):\n${v.losses.map((l) => `  ${l.object}: ${l.what}`).join('\n')}`;
}
