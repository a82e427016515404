/**
 * Which of a schema dump's post-data items can be built as soon as one table's rows are in: its
 * indexes and its primary key, unique and exclusion constraints. Everything else (foreign keys,
 * which need the referenced table's key; triggers; partitioned indexes and their attachments; rules,
 * policies) waits for every table. Pure: works on `pg_restore --list` lines and blue's catalog.
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

/**
 * A TOC line reads `<dumpId>; <catalog oid> <oid> <DESC> <schema> <name...> <owner>`, unquoted, so a
 * name with spaces cannot be split reliably; instead each line is matched against the exact texts
 * the catalog's objects would print as (`INDEX public orders_pkey `, `CONSTRAINT public orders orders_pkey `).
 * A line that matches nothing stays with the rest: built last, as pg_restore would.
 */
export function groupPostData(lines: ReadonlyArray<string>, objects: ReadonlyArray<TableObject>): { byTable: Map<string, string[]>; rest: string[] } {
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
  const head = /^\d+; \d+ \d+ /.exec(line);
  if (!head) return undefined;
  const tail = line.slice(head[0].length);
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

/** The list file for pg_restore --use-list with only `keep` active: every other entry commented out. */
export function listWith(lines: ReadonlyArray<string>, keep: ReadonlySet<string>): string {
  return lines.map((l) => (/^\d+;/.test(l) && !keep.has(l) ? `;${l}` : l)).join('\n');
}
