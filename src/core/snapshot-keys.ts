/**
 * The schema snapshot's keys and definitions taken apart (`column public.orders.price` →
 * kind and name; a column's type and NOT NULL; a table's partition bound): what the rollback window
 * and the migration effect reason about.
 */
import type { SchemaSnapshot } from './schema-diff.js';

/** Splits `a.b.c` as format('%I.%I.%I') writes it, keeping each part's raw (possibly quoted) text. */
export function splitRaw(text: string): string[] {
  return text.match(/"(?:[^"]|"")*"|[^."]+/g) ?? [text];
}

/** The unquoted form of one raw identifier part. */
export function unquote(raw: string): string {
  return raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw;
}

const KINDS = ['table', 'column', 'constraint', 'index', 'sequence', 'trigger', 'enum', 'materialized view'] as const;
export type Kind = (typeof KINDS)[number];

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

export const isUnique = (definition: string | undefined) =>
  !!definition && /^(UNIQUE|PRIMARY KEY|EXCLUDE)\b|^CREATE UNIQUE INDEX/.test(definition);

/** One snapshot entry of a kind: its key, its name, its definition. */
export interface SnapshotEntry {
  readonly key: string;
  readonly name: string;
  readonly def: string;
}

/** The entries of one kind in a snapshot, in its order. */
export function entriesOf(snapshot: SchemaSnapshot, kind: Kind): SnapshotEntry[] {
  return Object.entries(snapshot).flatMap(([key, def]) => {
    const p = parseKey(key);
    return p && p.kind === kind ? [{ key, name: p.name, def }] : [];
  });
}

/** A table's definition in a snapshot, taken apart; undefined when the snapshot lacks it. */
export function shapeOf(snapshot: SchemaSnapshot, table: string): TableShape | undefined {
  return snapshot[`table ${table}`] === undefined ? undefined : parseTableDef(snapshot[`table ${table}`]);
}
