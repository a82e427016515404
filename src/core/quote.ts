/** The one place identifiers and literals become SQL text. Values otherwise go as parameters. */

/** Quotes an identifier the way PostgreSQL's quote_ident does, always (mixed case and reserved words stay exact). */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new Error('identifier contains a NUL byte');
  return `"${name.replace(/"/g, '""')}"`;
}

/** `schema.table`, both parts quoted. */
export function quoteQualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** A string literal for the few places a parameter cannot go (utility commands such as ALTER DATABASE SET). */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('literal contains a NUL byte');
  return `'${value.replace(/'/g, "''")}'`;
}

/** A table's display name: `schema.table`, quoted only where needed so operators can read it. */
export function displayName(schema: string, name: string): string {
  const part = (s: string) => (/^[a-z_][a-z0-9_$]*$/.test(s) ? s : quoteIdent(s));
  return `${part(schema)}.${part(name)}`;
}

/** Splits `schema.name` as PostgreSQL's format('%I.%I') writes it (quoted parts may hold dots and quotes). */
export function splitQualified(text: string): [string, string] {
  const parts = text.match(/"(?:[^"]|"")*"|[^.]+/g) ?? [text];
  const clean = parts.map((p) => (p.startsWith('"') ? p.slice(1, -1).replace(/""/g, '"') : p));
  return [clean[0], clean.slice(1).join('.')];
}
