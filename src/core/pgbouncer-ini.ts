/**
 * Reading and rewriting one `[databases]` entry of pgbouncer.ini as text: only that entry's
 * host, port and dbname change; every other byte (comments, other entries, order) stays.
 */

export interface Target {
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

interface EntryLocation {
  readonly lineIndex: number;
  readonly prefix: string; // `name = ` exactly as written
  readonly connstr: string;
}

const SECTION = /^\s*\[([^\]]+)\]\s*$/;

function splitLines(text: string): string[] {
  return text.split('\n');
}

function entryName(raw: string): string {
  const trimmed = raw.trim();
  return trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1).replace(/""/g, '"') : trimmed;
}

function locate(text: string, database: string): EntryLocation | undefined {
  const lines = splitLines(text);
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const header = SECTION.exec(line);
    if (header) {
      section = header[1].trim().toLowerCase();
      continue;
    }
    if (section !== 'databases' || /^\s*[;#]/.test(line)) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    if (entryName(line.slice(0, eq)) !== database) continue;
    const after = line.slice(eq + 1);
    const lead = after.length - after.trimStart().length;
    return { lineIndex: i, prefix: line.slice(0, eq + 1 + lead), connstr: after.trimStart().replace(/\r$/, '') };
  }
  return undefined;
}

/** libpq-style `key=value key='quoted value'` pairs, in order. */
export function parseKeyValues(connstr: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const re = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']*)/gy;
  let match: RegExpExecArray | null;
  while ((match = re.exec(connstr)) !== null) {
    if (match[0].length === 0) break;
    const raw = match[2];
    const value = raw.startsWith("'") ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    pairs.push([match[1], value]);
  }
  return pairs;
}

function formatValue(value: string): string {
  return /^[^\s'\\]+$/.test(value) ? value : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Where the entry for `database` sends connections, or undefined when there is no such entry. */
export function readTarget(text: string, database: string): Target | undefined {
  const entry = locate(text, database);
  if (!entry) return undefined;
  const kv = new Map(parseKeyValues(entry.connstr));
  return {
    host: kv.get('host') ?? '127.0.0.1',
    port: Number(kv.get('port') ?? 5432),
    database: kv.get('dbname') ?? database,
  };
}

/** The same text with only the entry's host, port and dbname changed (other keys kept in order). */
export function rewriteTarget(text: string, database: string, target: Target): string {
  const entry = locate(text, database);
  if (!entry) throw new Error(`no entry for "${database}" in [databases]`);
  const pairs = parseKeyValues(entry.connstr);
  const wanted: Record<string, string> = { host: target.host, port: String(target.port), dbname: target.database };
  const seen = new Set<string>();
  const updated = pairs.map(([k, v]): [string, string] => {
    if (k in wanted) {
      seen.add(k);
      return [k, wanted[k]];
    }
    return [k, v];
  });
  for (const k of ['host', 'port', 'dbname']) if (!seen.has(k)) updated.push([k, wanted[k]]);
  const lines = splitLines(text);
  const cr = lines[entry.lineIndex].endsWith('\r') ? '\r' : '';
  lines[entry.lineIndex] = `${entry.prefix}${updated.map(([k, v]) => `${k}=${formatValue(v)}`).join(' ')}${cr}`;
  return lines.join('\n');
}

/** `VAR=value` files (.env style): read and rewrite one variable, keeping the rest. */
export function readEnvVariable(text: string, variable: string): string | undefined {
  for (const line of splitLines(text)) {
    const m = new RegExp(`^\\s*(?:export\\s+)?${variable}\\s*=\\s*(.*?)\\s*$`).exec(line);
    if (m) return unquoteEnv(m[1]);
  }
  return undefined;
}

export function rewriteEnvVariable(text: string, variable: string, value: string): string {
  const re = new RegExp(`^(\\s*(?:export\\s+)?${variable}\\s*=\\s*).*$`);
  const lines = splitLines(text);
  const index = lines.findIndex((l) => re.test(l));
  const formatted = /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
  if (index < 0) throw new Error(`no ${variable}= line`);
  lines[index] = lines[index].replace(re, `$1${formatted.replace(/\$/g, '$$$$')}`);
  return lines.join('\n');
}

function unquoteEnv(raw: string): string {
  if (raw.startsWith("'") && raw.endsWith("'")) return raw.slice(1, -1).replace(/'\\''/g, "'");
  if (raw.startsWith('"') && raw.endsWith('"')) return raw.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
  return raw;
}

/** Same host (localhost and 127.0.0.1 are one), port and database. */
export function sameTargetAs(a: Target, b: Target): boolean {
  const norm = (h: string) => (h === 'localhost' || h === '::1' ? '127.0.0.1' : h);
  return norm(a.host) === norm(b.host) && a.port === b.port && a.database === b.database;
}
