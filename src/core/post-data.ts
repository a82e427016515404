/**
 * Which of a schema dump's post-data items can be built as soon as one table's rows are in: its
 * indexes and its primary key, unique and exclusion constraints. Everything else (foreign keys,
 * which need the referenced table's key; triggers; partitioned indexes and their attachments; rules,
 * policies) waits for every table. Foreign keys between plain tables are taken out of pg_restore's
 * hands: each is added NOT VALID and then validated, so the checks of two keys that touch the same
 * table run side by side (see `foreignKeySql` in adapters/stream-copy.ts). Pure: works on `pg_restore --list` lines and blue's catalog.
 */

/** One index or key constraint as blue's catalog names it, with the table it belongs to. */
export interface TableObject {
  readonly kind: 'INDEX' | 'CONSTRAINT';
  readonly schema: string;
  readonly table: string;
  /** The index's or the constraint's name. */
  readonly name: string;
}

export const tableKey = (schema: string, table: string): string => `${schema}\u0000${table}`;

/** A TOC line's text after `<dumpId>; <catalog oid> <oid> `, or undefined for a comment or anything else. */
function tocTail(line: string): string | undefined {
  const head = /^\d+; \d+ \d+ /.exec(line);
  return head ? line.slice(head[0].length) : undefined;
}

/** A table's post-data lines split into its key constraints (built first: keys pointing at it need them) and the rest. */
export function keysFirst(lines: ReadonlyArray<string>): { keys: string[]; indexes: string[] } {
  const isKey = (l: string) => tocTail(l)?.startsWith('CONSTRAINT ') ?? false;
  return { keys: lines.filter(isKey), indexes: lines.filter((l) => !isKey(l)) };
}

/**
 * A TOC line reads `<dumpId>; <catalog oid> <oid> <DESC> <schema> <name...> <owner>`, unquoted, so a
 * name with spaces cannot be split reliably; instead each line is matched against the exact texts
 * the catalog's objects would print as (`INDEX public orders_pkey `, `CONSTRAINT public orders orders_pkey `).
 * A line that matches nothing stays with the rest: built last, as pg_restore would.
 */
export function groupPostData(
  lines: ReadonlyArray<string>,
  objects: ReadonlyArray<TableObject>,
): { byTable: Map<string, string[]>; rest: string[] } {
  const owner = new Map<string, string>();
  for (const o of objects) {
    const printed = o.kind === 'INDEX' ? `INDEX ${o.schema} ${o.name} ` : `CONSTRAINT ${o.schema} ${o.table} ${o.name} `;
    owner.set(printed, tableKey(o.schema, o.table));
  }
  const byTable = new Map<string, string[]>();
  const rest: string[] = [];
  for (const line of lines) {
    const table = tableOf(line, owner);
    if (table === undefined) {
      rest.push(line);
      continue;
    }
    const list = byTable.get(table) ?? [];
    list.push(line);
    byTable.set(table, list);
  }
  return { byTable, rest };
}

function tableOf(line: string, owner: Map<string, string>): string | undefined {
  const tail = tocTail(line);
  if (tail === undefined) return undefined;
  if (!tail.startsWith('INDEX ') || tail.startsWith('INDEX ATTACH ')) {
    if (!tail.startsWith('CONSTRAINT ')) return undefined;
  }
  // Try every prefix that ends at a space: a handful of lookups a line.
  for (let at = tail.indexOf(' '); at !== -1; at = tail.indexOf(' ', at + 1)) {
    const found = owner.get(tail.slice(0, at + 1));
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * A comment's or a security label's TOC line: restored after every foreign key, since it may describe
 * one the clone adds itself (`COMMENT <schema> CONSTRAINT <name> ON <table>`), where pg_restore would
 * have made the key first.
 */
export function describesAnObject(line: string): boolean {
  const tail = tocTail(line);
  return tail !== undefined && (tail.startsWith('COMMENT ') || tail.startsWith('SECURITY LABEL '));
}

/**
 * A foreign key pg_restore adds (one involving a partitioned table: we add only those between plain
 * tables). Restored after the rest has finished: in one parallel pg_restore it could run as soon as
 * the referenced partitioned table's key was added and before every partition's index was attached
 * to it, and fail with "there is no unique constraint matching given keys for referenced table"
 * (the zoo's streaming clone did, now and then, on a busy machine).
 */
export function isForeignKeyLeftToRestore(line: string, ours: ReadonlyMap<string, unknown>): boolean {
  return !ours.has(line) && (tocTail(line)?.startsWith('FK CONSTRAINT ') ?? false);
}

/** The list file for pg_restore --use-list with only `keep` active: every other entry commented out. */
export function listWith(lines: ReadonlyArray<string>, keep: ReadonlySet<string>): string {
  return lines.map((l) => (/^\d+;/.test(l) && !keep.has(l) ? `;${l}` : l)).join('\n');
}

/** A foreign key between two plain tables, as blue's catalog defines it (`pg_get_constraintdef`, names qualified). */
export interface ForeignKey {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  /** The referenced table's `tableKey`. */
  readonly references: string;
  /** `FOREIGN KEY (...) REFERENCES schema.table(...) ...`, with ` NOT VALID` when blue's is not validated. */
  readonly definition: string;
  /** Blue has checked every row against it (convalidated). */
  readonly validated: boolean;
  /** Both tables' sizes: what the check reads (the largest go first). */
  readonly bytes: number;
}

/**
 * The foreign keys of `lines` that `keys` describes (TOC text `FK CONSTRAINT <schema> <table> <name> `,
 * matched exactly as for the indexes), and the lines left for pg_restore. A line that more than one
 * key's text could begin (names with spaces) stays with pg_restore: it cannot be told which it is.
 */
export function splitForeignKeys(
  lines: ReadonlyArray<string>,
  keys: ReadonlyArray<ForeignKey>,
): { foreignKeys: Map<string, ForeignKey>; rest: string[] } {
  const printed = new Map<string, ForeignKey | null>();
  for (const k of keys) {
    const text = `FK CONSTRAINT ${k.schema} ${k.table} ${k.name} `;
    printed.set(text, printed.has(text) ? null : k);
  }
  const foreignKeys = new Map<string, ForeignKey>();
  const rest: string[] = [];
  for (const line of lines) {
    const tail = tocTail(line) ?? '';
    // Every key whose text begins the line is a candidate (the owner's name follows the key's): one, or none is taken.
    const candidates: Array<ForeignKey | null> = [];
    if (tail.startsWith('FK CONSTRAINT ')) {
      for (let at = tail.indexOf(' ', 'FK CONSTRAINT '.length); at !== -1; at = tail.indexOf(' ', at + 1)) {
        const k = printed.get(tail.slice(0, at + 1));
        if (k !== undefined) candidates.push(k);
      }
    }
    if (candidates.length === 1 && candidates[0]) foreignKeys.set(line, candidates[0]);
    else rest.push(line);
  }
  return { foreignKeys, rest };
}
