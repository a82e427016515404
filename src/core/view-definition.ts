/**
 * A view's definition as PostgreSQL deparses it, in one form for every major: from 16 on,
 * pg_get_viewdef leaves out the relation's name before each column of a query over one relation
 * (`SELECT customer_id FROM s.t`), where 15 writes it (`SELECT t.customer_id FROM s.t`). Both sides'
 * texts are put in the shorter form, so a major upgrade does not read as a changed view.
 */

const IDENT = `(?:"(?:[^"]|"")*"|[a-z_][a-z0-9_$]*)`;
const KEYWORDS = new Set(['where', 'group', 'having', 'order', 'limit', 'offset', 'window', 'fetch', 'for']);
const SINGLE_RELATION = new RegExp(
  `^SELECT (.*) FROM ${IDENT}\\.(${IDENT})(?: (${IDENT}))?((?: (?:WHERE|GROUP BY|HAVING|ORDER BY|LIMIT|OFFSET|WINDOW) .*)?;?)$`,
  's',
);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `definition` (whitespace already collapsed) with the one relation's qualifier taken off its columns. */
export function normaliseViewDefinition(definition: string): string {
  const m = SINGLE_RELATION.exec(definition);
  if (!m || /\bJOIN\b/.test(m[1])) return definition;
  const alias = m[3] && !KEYWORDS.has(m[3].toLowerCase()) ? m[3] : undefined;
  const qualifier = alias ?? m[2];
  // Not after a dot or inside a name: only `qualifier.` opening a column reference.
  const pattern = new RegExp(`(?<![."\\w$])${escapeRegExp(qualifier)}\\.(?=${IDENT})`, 'g');
  const head = definition.slice(0, definition.length - m[4].length);
  const fromAt = head.lastIndexOf(' FROM ');
  return head.slice(0, fromAt).replace(pattern, '') + head.slice(fromAt) + m[4].replace(pattern, '');
}
