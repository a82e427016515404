/**
 * Roles from `pg_dumpall --roles-only`, filtered so that green gets only the roles it lacks.
 * Pure text work: the caller runs the statements.
 */

export interface RoleStatement {
  readonly sql: string;
  /** The role the statement defines or alters; undefined for memberships (GRANT … TO …). */
  readonly role?: string;
  readonly kind: 'create' | 'alter' | 'comment' | 'grant' | 'other';
}

const IDENT = String.raw`("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;

function unquote(ident: string): string {
  return ident.startsWith('"') ? ident.slice(1, -1).replace(/""/g, '"') : ident.toLowerCase();
}

/** Splits the script into its statements (pg_dumpall writes one a line) and names each one's role. */
export function parseRolesScript(script: string): RoleStatement[] {
  const statements: RoleStatement[] = [];
  for (const line of script.split('\n')) {
    const sql = line.trim();
    if (!sql || sql.startsWith('--') || sql.startsWith('\\') || /^SET\s/i.test(sql)) continue;
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^CREATE ROLE ${IDENT}`, 'i').exec(sql))) statements.push({ sql, role: unquote(m[1]), kind: 'create' });
    else if ((m = new RegExp(`^ALTER ROLE ${IDENT}`, 'i').exec(sql))) statements.push({ sql, role: unquote(m[1]), kind: 'alter' });
    else if ((m = new RegExp(`^COMMENT ON ROLE ${IDENT}`, 'i').exec(sql))) statements.push({ sql, role: unquote(m[1]), kind: 'comment' });
    else if (/^GRANT\s/i.test(sql)) statements.push({ sql, kind: 'grant' });
    else statements.push({ sql, kind: 'other' });
  }
  return statements;
}

export interface RolesPlan {
  readonly create: ReadonlyArray<string>;
  readonly skip: ReadonlyArray<string>;
  readonly statements: ReadonlyArray<RoleStatement>;
}

/** The statements to run on green: everything for roles it lacks, plus every membership grant. */
export function planRoles(statements: ReadonlyArray<RoleStatement>, existingOnGreen: ReadonlySet<string>): RolesPlan {
  const defined = [...new Set(statements.filter((s) => s.kind === 'create').map((s) => s.role!))];
  const create = defined.filter((r) => !existingOnGreen.has(r));
  const skip = defined.filter((r) => existingOnGreen.has(r));
  const creating = new Set(create);
  return {
    create,
    skip,
    statements: statements.filter((s) => (s.role === undefined ? s.kind === 'grant' : creating.has(s.role))),
  };
}

/** Role attributes only a superuser may give or even name (NOSUPERUSER too, on a non-superuser's ALTER ROLE). */
const SUPERUSER_ONLY = /\b(NO)?(SUPERUSER|REPLICATION|BYPASSRLS)\b/gi;

/**
 * The statements as a role without SUPERUSER may run them: SUPERUSER, REPLICATION and BYPASSRLS (and
 * their NO forms, the defaults anyway) left out of CREATE/ALTER ROLE, GRANTED BY left out of grants
 * (the grantor must be the current role). Returns which roles lost which attribute.
 */
export function forNonSuperuser(statements: ReadonlyArray<RoleStatement>): {
  statements: RoleStatement[];
  dropped: Array<{ role: string; attribute: string }>;
} {
  const dropped: Array<{ role: string; attribute: string }> = [];
  const out = statements.map((s) => {
    if (s.kind === 'grant') return { ...s, sql: s.sql.replace(/\s+GRANTED BY\s+("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)/i, '') };
    if (s.kind !== 'create' && s.kind !== 'alter') return s;
    // Only the attribute list is rewritten: not the role's name, not a setting (ALTER ROLE … SET), and
    // nothing from the first literal on (PASSWORD '…', VALID UNTIL '…').
    const name = new RegExp(`^(CREATE|ALTER) ROLE ${IDENT}`, 'i').exec(s.sql)![0];
    if (/^\s+(SET|RESET|IN\s+DATABASE)\b/i.test(s.sql.slice(name.length))) return s;
    const quote = s.sql.indexOf("'");
    const head = s.sql.slice(name.length, quote < 0 ? undefined : quote);
    const tail = quote < 0 ? '' : s.sql.slice(quote);
    const cleaned = head.replace(SUPERUSER_ONLY, (word: string, no?: string) => {
      if (!no) dropped.push({ role: s.role!, attribute: word.toUpperCase() });
      return '';
    });
    const sql = (
      name +
      cleaned.replace(/\s+WITH\s*;?\s*$/i, (m) => (m.includes(';') ? ';' : '')).replace(/[ \t]{2,}/g, ' ') +
      tail
    ).replace(/\s+;$/, ';');
    return { ...s, sql };
  });
  return { statements: out, dropped };
}
