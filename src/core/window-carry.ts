/**
 * What the serving side has and the standby lacks: carried to the standby by sync-schema (types,
 * sequences, tables and partitions, columns, constraints, indexes, materialized views), or noted when
 * it is not carried (a trigger). Tables the serving side no longer publishes are re-published.
 */
import { enumLabels } from './schema-diff.js';
import { entriesOf, indexTable, lastPart, parseTableDef, shapeOf, splitRaw, tableOf } from './snapshot-keys.js';
import type { WindowFindings, WindowSides } from './window-sides.js';

/** What the table step decided, which the later steps read. */
export interface TablesCarried {
  /** Tables made on the standby whole: their columns, constraints and indexes come with them. */
  readonly newTables: ReadonlySet<string>;
  /** New partitions on the standby: their own (not inherited) constraints and indexes are carried after them. */
  readonly arriving: ReadonlySet<string>;
  /**
   * Tables detached or attached on the standby: PostgreSQL turns their derived keys and indexes into
   * their own (or back) there too.
   */
  readonly regrouped: ReadonlySet<string>;
}

export function carryEnums(w: WindowSides, out: WindowFindings): void {
  for (const e of entriesOf(w.fromNow, 'enum')) {
    const standby = w.toNow[e.key];
    if (standby === undefined) {
      out.carry.push({ kind: 'enum', type: e.name });
      continue;
    }
    const have = new Set(enumLabels(standby));
    enumLabels(e.def).forEach((label, i, all) => {
      if (!have.has(label)) out.carry.push({ kind: 'enum-value', type: e.name, label, after: i > 0 ? all[i - 1] : undefined });
    });
  }
}

export function carrySequences(w: WindowSides, out: WindowFindings): void {
  for (const s of entriesOf(w.fromNow, 'sequence'))
    if (w.toNow[s.key] === undefined) out.carry.push({ kind: 'sequence', sequence: s.name });
}

export function carryTables(w: WindowSides, out: WindowFindings): TablesCarried {
  const newTables = new Set<string>();
  const arriving = new Set<string>();
  const regrouped = new Set<string>();
  for (const t of entriesOf(w.fromNow, 'table')) {
    const part = parseTableDef(t.def).partitionOf;
    const standby = shapeOf(w.toNow, t.name);
    if (standby) {
      // Membership changed on the serving side: follow it on the standby (detach first, then attach).
      const same = part && standby.partitionOf && part.parent === standby.partitionOf.parent && part.bound === standby.partitionOf.bound;
      if (standby.partitionOf && !same) out.carry.push({ kind: 'detach', table: t.name, parent: standby.partitionOf.parent });
      if (part && !same) out.carry.push({ kind: 'attach', table: t.name, parent: part.parent, bound: part.bound, depth: w.depth(t.name) });
      if ((standby.partitionOf || part) && !same) regrouped.add(t.name);
      continue;
    }
    if (part) {
      arriving.add(t.name);
      out.carry.push({ kind: 'partition', table: t.name, parent: part.parent, bound: part.bound, depth: w.depth(t.name) });
      continue;
    }
    if (!w.hasPrimaryKey(t.name)) {
      out.losses.push({
        object: t.key,
        what:
          `new on ${w.from} without a primary key: it cannot be replicated to ${w.to}, ` +
          'so its rows would stay behind (add a primary key)',
      });
      continue;
    }
    newTables.add(t.name);
    out.carry.push({ kind: 'table', table: t.name });
  }
  return { newTables, arriving, regrouped };
}

/** Columns the standby lacks are added; columns it has that the serving side no longer publishes are re-published. */
export function carryColumns(w: WindowSides, tables: TablesCarried, out: WindowFindings): void {
  const published = w.published;
  for (const c of entriesOf(w.fromNow, 'column')) {
    const table = tableOf(c.name);
    if (tables.newTables.has(table) || !w.tablesTo.has(table) || !w.tablesFrom.has(table) || w.isPartition(table)) continue;
    const onStandby = w.toNow[c.key] !== undefined;
    const columns = published?.get(table);
    const isPublished = columns === null || (columns !== undefined && columns.includes(lastPart(c.name)));
    if (!onStandby) out.carry.push({ kind: 'column', table, column: lastPart(c.name), add: true });
    else if (published && columns !== undefined && !isPublished && !c.def.endsWith(' generated'))
      out.carry.push({ kind: 'column', table, column: lastPart(c.name), add: false });
  }
}

/** Tables both sides have that left the serving side's publication. */
export function carryRepublish(w: WindowSides, out: WindowFindings): void {
  if (!w.published) return;
  for (const table of w.tablesFrom) {
    // An unlogged table is never published (PostgreSQL refuses it): the flips copy its rows instead (flip-unlogged.ts).
    const unpublishable = shapeOf(w.fromNow, table)?.core.includes('(unlogged)');
    if (w.tablesTo.has(table) && !w.published.has(table) && !shapeOf(w.fromNow, table)?.partitionOf && !unpublishable)
      out.carry.push({ kind: 'republish', table });
  }
}

export function carryConstraints(w: WindowSides, tables: TablesCarried, out: WindowFindings): void {
  for (const k of entriesOf(w.fromNow, 'constraint')) {
    const table = tableOf(k.name);
    const standbyHasTable = w.tablesTo.has(table) || tables.arriving.has(table);
    if (tables.newTables.has(table) || tables.regrouped.has(table) || !standbyHasTable || w.toNow[k.key] !== undefined) continue;
    out.carry.push({ kind: 'constraint', table, constraint: lastPart(k.name) });
  }
}

/** Indexes the standby lacks, but those a constraint makes (the constraint carries them). */
export function carryIndexes(w: WindowSides, tables: TablesCarried, out: WindowFindings): void {
  const { fromNow, toNow } = w;
  const constraintIndexes = new Set(entriesOf(fromNow, 'constraint').map((k) => `${splitRaw(k.name)[0]}.${splitRaw(k.name)[2]}`));
  for (const i of entriesOf(fromNow, 'index')) {
    const table = indexTable(i.def);
    if (!table || toNow[i.key] !== undefined || constraintIndexes.has(i.name) || tables.regrouped.has(table)) continue;
    if (
      tables.newTables.has(table) ||
      w.tablesTo.has(table) ||
      tables.arriving.has(table) ||
      toNow[`materialized view ${table}`] !== undefined ||
      fromNow[`materialized view ${table}`] !== undefined
    ) {
      out.carry.push({ kind: 'index', table, index: i.name });
    }
  }
}

export function carryMaterializedViews(w: WindowSides, out: WindowFindings): void {
  for (const m of entriesOf(w.fromNow, 'materialized view'))
    if (w.toNow[m.key] === undefined) out.carry.push({ kind: 'materialized-view', view: m.name });
}

export function noteTriggers(w: WindowSides, out: WindowFindings): void {
  for (const t of entriesOf(w.fromNow, 'trigger')) {
    if (w.toNow[t.key] === undefined && w.tablesTo.has(tableOf(t.name)))
      out.notes.push(`trigger ${t.name} exists on ${w.from} only (triggers are not carried; replication does not fire them)`);
  }
}
