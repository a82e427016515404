/**
 * What belongs to the database rather than to its schema: `ALTER DATABASE … SET`, `ALTER ROLE … IN
 * DATABASE … SET`, the database's grants and its comment. pg_dump without --create leaves them out,
 * so clone copies them itself; compare reads them as part of the schema.
 */
import { quoteIdent, quoteLiteral } from '../core/quote.js';
import { splitSettingList } from '../core/settings.js';
import { type Client, queryOne } from './pg.js';

export interface DatabaseLevel {
  /** `name=value` as pg_db_role_setting stores them, for the database and for each role in it. */
  readonly settings: ReadonlyArray<string>;
  readonly roleSettings: ReadonlyArray<{ readonly role: string; readonly settings: ReadonlyArray<string> }>;
  /** Explicit grants on the database; undefined when it has the default privileges (datacl NULL). */
  readonly grants?: ReadonlyArray<{ readonly grantee: string; readonly privilege: string; readonly grantable: boolean }>;
  readonly comment: string | null;
}

export async function readDatabaseLevel(client: Client): Promise<DatabaseLevel> {
  const db = await queryOne<{ settings: string[] | null; acl_null: boolean; comment: string | null }>(
    client,
    `SELECT (SELECT setconfig FROM pg_db_role_setting s WHERE s.setdatabase = d.oid AND s.setrole = 0) AS settings,
            d.datacl IS NULL AS acl_null, shobj_description(d.oid, 'pg_database') AS comment
       FROM pg_database d WHERE d.datname = current_database()`,
  );
  const roles = await client.query<{ role: string; settings: string[] }>(
    `SELECT r.rolname AS role, s.setconfig AS settings FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
      WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1`,
  );
  const grants = db!.acl_null
    ? undefined
    : (
        await client.query<{ grantee: string; privilege: string; grantable: boolean }>(
          `SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS grantee,
                  a.privilege_type AS privilege, a.is_grantable AS grantable
             FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = current_database() ORDER BY 1, 2`,
        )
      ).rows;
  return { settings: db!.settings ?? [], roleSettings: roles.rows, grants, comment: db!.comment };
}

/** The database-level part of a schema snapshot: one entry per setting, grant and the comment. */
export async function databaseLevelEntries(client: Client): Promise<Record<string, string>> {
  const level = await readDatabaseLevel(client);
  const out: Record<string, string> = {};
  for (const s of level.settings) out[`database setting ${settingName(s)}`] = settingValue(s);
  for (const r of level.roleSettings)
    for (const s of r.settings) out[`database role setting ${quoteIdent(r.role)} ${settingName(s)}`] = settingValue(s);
  if (level.grants) {
    const byGrantee = new Map<string, string[]>();
    for (const g of level.grants)
      byGrantee.set(g.grantee, [...(byGrantee.get(g.grantee) ?? []), `${g.privilege}${g.grantable ? ' with grant option' : ''}`]);
    out['database grants'] = [...byGrantee].map(([who, privs]) => `${who}: ${privs.join(', ')}`).join('; ') || 'none';
  }
  if (level.comment !== null) out['database comment'] = level.comment;
  return out;
}

const settingName = (s: string) => s.slice(0, s.indexOf('='));
const settingValue = (s: string) => s.slice(s.indexOf('=') + 1);

/** Settings whose stored value is a list of quoted identifiers (GUC_LIST_QUOTE in PostgreSQL). */
const LIST_SETTINGS = new Set([
  'search_path',
  'temp_tablespaces',
  'local_preload_libraries',
  'session_preload_libraries',
  'shared_preload_libraries',
  'unix_socket_directories',
]);

/** `SET name TO value` for one stored `name=value`: names quoted part by part, values as literals. */
function setClause(setting: string): string {
  const name = settingName(setting);
  const value = settingValue(setting);
  const quotedName = name.split('.').map(quoteIdent).join('.');
  const values = LIST_SETTINGS.has(name) ? splitSettingList(value).map(quoteLiteral).join(', ') : quoteLiteral(value);
  return `SET ${quotedName} TO ${values || "''"}`;
}

/**
 * Makes the connected database's settings, role-in-database settings, grants and comment those of
 * `level` (read from the other side). Roles that do not exist here are skipped and named.
 */
export async function applyDatabaseLevel(client: Client, level: DatabaseLevel): Promise<{ applied: number; skipped: string[] }> {
  const db = quoteIdent((await queryOne<{ d: string }>(client, 'SELECT current_database() AS d'))!.d);
  const roles = new Set((await client.query<{ r: string }>('SELECT rolname AS r FROM pg_roles')).rows.map((r) => r.r));
  const skipped: string[] = [];
  let applied = 0;
  for (const s of level.settings) {
    await client.query(`ALTER DATABASE ${db} ${setClause(s)}`);
    applied++;
  }
  for (const r of level.roleSettings) {
    if (!roles.has(r.role)) {
      skipped.push(`settings of role ${r.role} (no such role here)`);
      continue;
    }
    for (const s of r.settings) {
      await client.query(`ALTER ROLE ${quoteIdent(r.role)} IN DATABASE ${db} ${setClause(s)}`);
      applied++;
    }
  }
  if (level.grants) {
    // From the defaults (PUBLIC: CONNECT, TEMPORARY) to exactly blue's list.
    await client.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
    for (const g of level.grants) {
      if (g.grantee !== 'PUBLIC' && !roles.has(g.grantee)) {
        skipped.push(`${g.privilege} for ${g.grantee} (no such role here)`);
        continue;
      }
      const grantee = g.grantee === 'PUBLIC' ? 'PUBLIC' : quoteIdent(g.grantee);
      await client.query(`GRANT ${g.privilege} ON DATABASE ${db} TO ${grantee}${g.grantable ? ' WITH GRANT OPTION' : ''}`);
      applied++;
    }
  }
  if (level.comment !== null) {
    await client.query(`COMMENT ON DATABASE ${db} IS ${quoteLiteral(level.comment)}`);
    applied++;
  }
  return { applied, skipped };
}
