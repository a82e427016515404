/**
 * Which DDL log entries concern which schema object. Compare may say "DDL on blue" only with the
 * entry that shows it, so a schema snapshot's key (`constraint public.orders.orders_pkey`) is tied
 * to the objects event triggers name (`orders_pkey on public.orders`, `public.orders`) here.
 */

/** A DDL log entry as compare reads it (the adapter's `DdlEntry` has this shape and more). */
export interface DdlLogEntry {
  readonly at: string;
  readonly command: string;
  readonly objectType: string | null;
  readonly object: string | null;
}

/** The dot-separated parts of a name as format('%I') and object_identity write it (quoted parts may hold dots). */
function nameParts(text: string): string[] {
  return text.match(/"(?:[^"]|"")*"|[^.]+/g) ?? [text];
}

/** Snapshot keys by kind, longest prefix first (`materialized view` before any one-word kind). */
const KINDS = ['materialized view', 'table', 'column', 'constraint', 'index', 'sequence', 'trigger', 'enum'] as const;

/**
 * The objects whose DDL changes a snapshot entry: the entry itself, and for what belongs to a table
 * (columns, constraints, triggers, indexes) the table, since `ALTER TABLE` is logged on the table.
 * Database-level entries have none: event triggers do not fire for shared objects.
 */
export function subjectsOf(key: string, definition?: string): string[] {
  const kind = KINDS.find((k) => key.startsWith(`${k} `));
  if (!kind) return [];
  const name = key.slice(kind.length + 1);
  const parts = nameParts(name);
  switch (kind) {
    case 'column':
      return [name, parts.slice(0, 2).join('.')];
    case 'constraint':
    case 'trigger':
      return [parts.slice(0, 2).join('.')];
    case 'index': {
      // The snapshot's definition has the index's name taken out: `CREATE INDEX ON [ONLY] s.t USING …`.
      const table = /^CREATE (?:UNIQUE )?INDEX ON (?:ONLY )?(.+?) USING /.exec(definition ?? '')?.[1];
      return table ? [name, table] : [name];
    }
    default:
      return [name];
  }
}

/** The objects an entry names: `c on s.t` is about s.t, `for s.t.c` (a default) and `s.t.c` (a column) about s.t.c and s.t. */
export function entrySubjects(entry: DdlLogEntry): string[] {
  if (!entry.object) return [];
  const on = /^(?:"(?:[^"]|"")*"|[^" ]+) on (.+)$/.exec(entry.object);
  if (on) return [on[1]];
  const name = entry.object.replace(/^for /, '');
  const parts = nameParts(name);
  return parts.length > 2 ? [name, parts.slice(0, 2).join('.')] : [name];
}

/** The entries that changed what a snapshot key describes (empty when the log says nothing about it). */
export function entriesTouching(key: string, definition: string | undefined, entries: ReadonlyArray<DdlLogEntry>): DdlLogEntry[] {
  const subjects = new Set(subjectsOf(key, definition));
  if (!subjects.size) return [];
  return entries.filter((e) => entrySubjects(e).some((s) => subjects.has(s)));
}

/** Whether DDL on this kind of entry can be in the log at all (not for database-level settings, grants, comment). */
export function visibleToDdlLog(key: string): boolean {
  return KINDS.some((k) => key.startsWith(`${k} `));
}
