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
