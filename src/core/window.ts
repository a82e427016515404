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
import { enumLabels, type SchemaSnapshot } from './schema-diff.js';
import type { Side } from './state.js';

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

/** Splits `a.b.c` as format('%I.%I.%I') writes it, keeping each part's raw (possibly quoted) text. */
export function splitRaw(text: string): string[] {
  return text.match(/"(?:[^"]|"")*"|[^."]+/g) ?? [text];
}

/** The unquoted form of one raw identifier part. */
export function unquote(raw: string): string {
  return raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw;
}

const KINDS = ['table', 'column', 'constraint', 'index', 'sequence', 'trigger', 'enum', 'materialized view'] as const;
type Kind = (typeof KINDS)[number];

export function parseKey(key: string): { kind: Kind; name: string } | undefined {
  // Longest kind first: "materialized view x" must not read as a kind of its own.
  for (const kind of [...KINDS].sort((a, b) => b.length - a.length)) {
    if (key.startsWith(`${kind} `)) return { kind, name: key.slice(kind.length + 1) };
  }
  return undefined;
}

/** `public.orders` from `public.orders.price` (or from a constraint or trigger name). */
export function tableOf(name: string): string {
  return splitRaw(name).slice(0, 2).join('.');
}

/** The last part of a qualified name, unquoted: a column's or a constraint's own name. */
export function lastPart(name: string): string {
  return unquote(splitRaw(name).at(-1)!);
}

/** The table an index is on, from its definition (`CREATE INDEX ON public.t USING …`). */
export function indexTable(definition: string): string | undefined {
  return /^CREATE (?:UNIQUE )?INDEX ON (?:ONLY )?((?:"(?:[^"]|"")*"|[^ ."]+)\.(?:"(?:[^"]|"")*"|[^ ."(]+)) USING/.exec(definition)?.[1];
}

/** A column definition from readSchema, taken apart: `numeric(6,2) not null default 1 identity`. */
export function parseColumn(definition: string): { type: string; notNull: boolean } {
  const head = definition.split(' default ')[0].replace(/( identity| generated)+$/, '');
  const notNull = head.endsWith(' not null');
  return { type: notNull ? head.slice(0, -' not null'.length) : head, notNull };
}

/** A table's snapshot definition taken apart: `partitioned table by RANGE (at) partition of public.x FOR VALUES …`. */
export interface TableShape {
  /** Kind, persistence and partition key: what logical replication cannot follow when it changes. */
  readonly core: string;
  readonly partitioned: boolean;
  readonly partitionOf?: { readonly parent: string; readonly bound: string };
}

export function parseTableDef(definition: string): TableShape {
  const m = /^(.*?) partition of ((?:"(?:[^"]|"")*"|[^ ."]+)\.(?:"(?:[^"]|"")*"|[^ ."]+)) (FOR VALUES .*|DEFAULT)$/s.exec(definition);
  const core = m ? m[1] : definition;
  return { core, partitioned: core.startsWith('partitioned table'), partitionOf: m ? { parent: m[2], bound: m[3] } : undefined };
}

const isUnique = (definition: string | undefined) =>
  !!definition && /^(UNIQUE|PRIMARY KEY|EXCLUDE)\b|^CREATE UNIQUE INDEX/.test(definition);

export function assessWindow(input: WindowInputs): WindowVerdict {
  const { from, to, fromNow, toNow } = input;
  const baseline = input.fromBaseline ?? fromNow;
  const carry: CarryAction[] = [];
  const losses: Loss[] = [];
  const notes: string[] = [];
  const entries = (snapshot: SchemaSnapshot, kind: Kind) =>
    Object.entries(snapshot).flatMap(([key, def]) => {
      const p = parseKey(key);
      return p && p.kind === kind ? [{ key, name: p.name, def }] : [];
    });
  const tablesFrom = new Set(entries(fromNow, 'table').map((t) => t.name));
  const tablesTo = new Set(entries(toNow, 'table').map((t) => t.name));
  const hasPrimaryKey = (table: string) =>
    entries(fromNow, 'constraint').some((c) => tableOf(c.name) === table && c.def.startsWith('PRIMARY KEY'));
  const newTables = new Set<string>();
  // Partitions are published through their root (publish_via_partition_root): their rows, columns
  // and derived keys belong to the root's reasoning; only membership (made, attached, detached) is theirs.
  const shape = (snapshot: SchemaSnapshot, table: string) =>
    snapshot[`table ${table}`] === undefined ? undefined : parseTableDef(snapshot[`table ${table}`]);
  const isPartition = (table: string) =>
    !!(shape(fromNow, table)?.partitionOf || shape(toNow, table)?.partitionOf || shape(baseline, table)?.partitionOf);
  const depth = (table: string): number => {
    const parent = shape(fromNow, table)?.partitionOf?.parent;
    return parent && parent !== table ? 1 + depth(parent) : 0;
  };
  /** New partitions on the standby: their own (not inherited) constraints and indexes are carried after them. */
  const arriving = new Set<string>();
  /** Tables detached or attached on the standby: PostgreSQL turns their derived keys and indexes into their own (or back) there too. */
  const regrouped = new Set<string>();

  // What the serving side took away or changed since it started serving: cannot be carried.
  for (const [key, before] of Object.entries(baseline)) {
    const p = parseKey(key);
    if (!p) continue;
    const now = fromNow[key];
    const standby = toNow[key];
    if (now === before) continue;
    switch (p.kind) {
      case 'table': {
        const was = parseTableDef(before);
        const onStandby = standby === undefined ? undefined : parseTableDef(standby);
        if (now === undefined && was.partitionOf && onStandby?.partitionOf) {
          // pg_partman's retention: a partition dropped on the serving side leaves the root's rows without it.
          carry.push({ kind: 'detach', table: p.name, parent: onStandby.partitionOf.parent });
          notes.push(
            `partition ${p.name} was dropped on ${from}: it is detached on ${to} and kept there as a table with its rows (drop it when you no longer need them)`,
          );
        } else if (now === undefined && standby !== undefined)
          losses.push({ object: key, what: `dropped on ${from}; ${to} still has it, with the rows it had then` });
        else if (now !== undefined && parseTableDef(now).core !== was.core)
          losses.push({ object: key, what: `changed on ${from} (${before} → ${now}): logical replication cannot follow it` });
        break;
      }
      case 'column': {
        if (!tablesFrom.has(tableOf(p.name))) break; // the table's own loss says it
        if (isPartition(tableOf(p.name))) break; // a partition's columns are its root's
        if (now === undefined) {
          if (standby !== undefined)
            losses.push({
              object: key,
              what: `dropped on ${from}: ${to} keeps the column, and rows ${from} writes from now on have no value for it there${parseColumn(standby).notNull && !standby.includes(' default ') ? ' (NOT NULL without a default: replication into ' + to + ' stops at the first such row)' : ''}`,
            });
          break;
        }
        const b = parseColumn(before);
        const n = parseColumn(now);
        if (b.type !== n.type && standby !== undefined && parseColumn(standby).type !== n.type) {
          losses.push({
            object: key,
            what: `type changed on ${from} (${b.type} → ${n.type}); ${to} has ${parseColumn(standby).type}: values ${from} writes may not fit`,
          });
        } else if (b.notNull && !n.notNull && standby !== undefined && parseColumn(standby).notNull) {
          losses.push({
            object: key,
            what: `NOT NULL dropped on ${from} but ${to} still enforces it: the first NULL ${from} writes stops replication`,
          });
        }
        break;
      }
      case 'constraint':
        if (!tablesFrom.has(tableOf(p.name))) break;
        if (standby !== undefined && standby !== now && !standby.startsWith('FOREIGN KEY')) {
          losses.push({
            object: key,
            what: `${now === undefined ? 'dropped' : 'changed'} on ${from} but ${to} still enforces "${standby}": rows ${from} now accepts may stop replication`,
          });
        }
        break;
      case 'index':
        if (now === undefined && isUnique(standby) && tablesFrom.has(indexTable(standby!) ?? '')) {
          losses.push({
            object: key,
            what: `unique index dropped on ${from} but ${to} still has it: a duplicate ${from} now accepts stops replication`,
          });
        }
        break;
      case 'enum': {
        const gone = enumLabels(before).filter((l) => now === undefined || !enumLabels(now).includes(l));
        if (now !== undefined && gone.length)
          losses.push({
            object: key,
            what: `value${gone.length > 1 ? 's' : ''} ${gone.map((l) => `'${l}'`).join(', ')} renamed or removed on ${from}: ${to} cannot take the new one${gone.length > 1 ? 's' : ''} for rows that had ${gone.length > 1 ? 'them' : 'it'}`,
          });
        break;
      }
      default:
        break;
    }
  }

  // What the serving side has and the standby lacks: carried, in dependency order.
  for (const e of entries(fromNow, 'enum')) {
    const standby = toNow[e.key];
    if (standby === undefined) {
      carry.push({ kind: 'enum', type: e.name });
      continue;
    }
    const have = new Set(enumLabels(standby));
    enumLabels(e.def).forEach((label, i, all) => {
      if (!have.has(label)) carry.push({ kind: 'enum-value', type: e.name, label, after: i > 0 ? all[i - 1] : undefined });
    });
  }
  for (const s of entries(fromNow, 'sequence')) if (toNow[s.key] === undefined) carry.push({ kind: 'sequence', sequence: s.name });
  for (const t of entries(fromNow, 'table')) {
    const part = parseTableDef(t.def).partitionOf;
    const standby = shape(toNow, t.name);
    if (standby) {
      // Membership changed on the serving side: follow it on the standby (detach first, then attach).
      const same = part && standby.partitionOf && part.parent === standby.partitionOf.parent && part.bound === standby.partitionOf.bound;
      if (standby.partitionOf && !same) carry.push({ kind: 'detach', table: t.name, parent: standby.partitionOf.parent });
      if (part && !same) carry.push({ kind: 'attach', table: t.name, parent: part.parent, bound: part.bound, depth: depth(t.name) });
      if ((standby.partitionOf || part) && !same) regrouped.add(t.name);
      continue;
    }
    if (part) {
      arriving.add(t.name);
      carry.push({ kind: 'partition', table: t.name, parent: part.parent, bound: part.bound, depth: depth(t.name) });
      continue;
    }
    if (!hasPrimaryKey(t.name)) {
      losses.push({
        object: t.key,
        what: `new on ${from} without a primary key: it cannot be replicated to ${to}, so its rows would stay behind (add a primary key)`,
      });
      continue;
    }
    newTables.add(t.name);
    carry.push({ kind: 'table', table: t.name });
  }
  const published = input.published;
  for (const c of entries(fromNow, 'column')) {
    const table = tableOf(c.name);
    if (newTables.has(table) || !tablesTo.has(table) || !tablesFrom.has(table) || isPartition(table)) continue;
    const onStandby = toNow[c.key] !== undefined;
    const columns = published?.get(table);
    const isPublished = columns === null || (columns !== undefined && columns.includes(lastPart(c.name)));
    if (!onStandby) carry.push({ kind: 'column', table, column: lastPart(c.name), add: true });
    else if (published && columns !== undefined && !isPublished && !c.def.endsWith(' generated'))
      carry.push({ kind: 'column', table, column: lastPart(c.name), add: false });
  }
  if (published) {
    for (const table of tablesFrom) {
      // An unlogged table is never published (PostgreSQL refuses it): the flips copy its rows instead (flip-unlogged.ts).
      const unpublishable = shape(fromNow, table)?.core.includes('(unlogged)');
      if (tablesTo.has(table) && !published.has(table) && !shape(fromNow, table)?.partitionOf && !unpublishable)
        carry.push({ kind: 'republish', table });
    }
  }
  for (const k of entries(fromNow, 'constraint')) {
    const table = tableOf(k.name);
    if (newTables.has(table) || regrouped.has(table) || !(tablesTo.has(table) || arriving.has(table)) || toNow[k.key] !== undefined)
      continue;
    carry.push({ kind: 'constraint', table, constraint: lastPart(k.name) });
  }
  const constraintIndexes = new Set(entries(fromNow, 'constraint').map((k) => `${splitRaw(k.name)[0]}.${splitRaw(k.name)[2]}`));
  for (const i of entries(fromNow, 'index')) {
    const table = indexTable(i.def);
    if (!table || toNow[i.key] !== undefined || constraintIndexes.has(i.name) || regrouped.has(table)) continue;
    if (
      newTables.has(table) ||
      tablesTo.has(table) ||
      arriving.has(table) ||
      toNow[`materialized view ${table}`] !== undefined ||
      fromNow[`materialized view ${table}`] !== undefined
    ) {
      carry.push({ kind: 'index', table, index: i.name });
    }
  }
  for (const m of entries(fromNow, 'materialized view'))
    if (toNow[m.key] === undefined) carry.push({ kind: 'materialized-view', view: m.name });
  for (const t of entries(fromNow, 'trigger')) {
    if (toNow[t.key] === undefined && tablesTo.has(tableOf(t.name)))
      notes.push(`trigger ${t.name} exists on ${from} only (triggers are not carried; replication does not fire them)`);
  }
  return { from, to, carry: order(carry), losses, notes };
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
  if (!v.losses.length)
    return `${direction}: lossless${v.carry.length ? ` (sync-schema will carry ${v.carry.length} change${v.carry.length > 1 ? 's' : ''} to ${v.to} first)` : ''}`;
  return `${direction}: would lose data (${v.losses.length} item${v.losses.length > 1 ? 's' : ''}):\n${v.losses.map((l) => `  ${l.object}: ${l.what}`).join('\n')}`;
}
