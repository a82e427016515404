/** Database-level operations on a server: properties, create/drop, roles, comments. */
import type { CollationVersion } from '../core/preflight-rules.js';
import { quoteIdent, quoteLiteral } from '../core/quote.js';
import type { RoleStatement } from '../core/roles.js';
import { majorOf, versionFeatures } from '../core/versions.js';
import { type Client, queryOne, serverMajor as serverMajorOf } from './pg.js';

export interface DatabaseProps {
  readonly owner: string;
  readonly encoding: string;
  readonly collate: string;
  readonly ctype: string;
  readonly provider: string;
  readonly icu: string | null;
}

/** Owner, encoding and locale of the connected database: green's is created alike. */
export async function readDatabaseProps(client: Client): Promise<DatabaseProps> {
  const locale = versionFeatures(await serverMajorOf(client)).databaseLocaleColumn;
  const row = await queryOne<DatabaseProps>(
    client,
    `SELECT pg_get_userbyid(datdba) AS owner, pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype,
            datlocprovider AS provider, ${locale} AS icu FROM pg_database WHERE datname = current_database()`,
  );
  return row!;
}

export async function databaseExists(admin: Client, name: string): Promise<boolean> {
  return ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0;
}

/** Creates `name` like a database with `props` (from template0); drops an existing one first when told. */
export async function createDatabaseLike(admin: Client, name: string, props: DatabaseProps, dropFirst: boolean): Promise<void> {
  if (dropFirst) await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  const locale = props.provider === 'i' && props.icu ? ` LOCALE_PROVIDER icu ICU_LOCALE ${quoteLiteral(props.icu)}` : '';
  await admin.query(
    `CREATE DATABASE ${quoteIdent(name)} OWNER ${quoteIdent(props.owner)} TEMPLATE template0 ENCODING ${quoteLiteral(props.encoding)}
       LC_COLLATE ${quoteLiteral(props.collate)} LC_CTYPE ${quoteLiteral(props.ctype)}${locale}`,
  );
}

export async function roleNames(client: Client): Promise<Set<string>> {
  return new Set((await client.query<{ rolname: string }>('SELECT rolname FROM pg_roles')).rows.map((r) => r.rolname));
}

/**
 * Runs role statements in order. A membership grant that fails (a grantor missing on this server)
 * is counted, not fatal; a failing role definition throws.
 */
export async function applyRoleStatements(client: Client, statements: ReadonlyArray<RoleStatement>): Promise<{ grantsSkipped: number }> {
  let grantsSkipped = 0;
  for (const s of statements) {
    try {
      await client.query(s.sql);
    } catch (error) {
      if (s.kind !== 'grant')
        throw Object.assign(new Error(`creating role ${s.role} failed: ${(error as Error).message}`), { cause: error });
      grantsSkipped++;
    }
  }
  return { grantsSkipped };
}

export async function commentOnCurrentDatabase(client: Client, text: string): Promise<void> {
  const row = await queryOne<{ db: string }>(client, 'SELECT current_database() AS db');
  await client.query(`COMMENT ON DATABASE ${quoteIdent(row!.db)} IS ${quoteLiteral(text)}`);
}

export interface ServerFacts {
  readonly version: string;
  readonly major: number;
  readonly superuser: boolean;
  readonly systemId: string;
  readonly user: string;
  /** The role's attributes and memberships that the features need, each true or false. */
  readonly privileges: Readonly<Record<'replication' | 'createdb' | 'createrole' | 'signalBackend' | 'createSubscription', boolean>>;
}

/** Version, privileges and identity of the connected server. */
export async function readServerFacts(client: Client): Promise<ServerFacts> {
  // A physical copy shares the system identifier: the data directory and start time tell one server from another.
  const row = await queryOne<{
    version: string;
    num: string;
    superuser: boolean;
    system_id: string;
    user: string;
    replication: boolean;
    createdb: boolean;
    createrole: boolean;
    signal: boolean;
    subscribe: boolean;
  }>(
    client,
    `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num, current_user AS user,
            r.rolsuper AS superuser, r.rolreplication AS replication, r.rolcreatedb AS createdb, r.rolcreaterole AS createrole,
            pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') AS signal,
            coalesce((SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = 'pg_create_subscription'), false)
              AS subscribe,
            (SELECT system_identifier::text FROM pg_control_system()) || ' ' || current_setting('data_directory') || ' '
              || pg_postmaster_start_time() AS system_id
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  const r = row!;
  return {
    version: r.version,
    major: majorOf(r.num),
    superuser: r.superuser,
    systemId: r.system_id,
    user: r.user,
    privileges: {
      replication: r.replication,
      createdb: r.createdb,
      createrole: r.createrole,
      signalBackend: r.signal,
      createSubscription: r.subscribe,
    },
  };
}

export async function availableExtensions(client: Client): Promise<string[]> {
  return (await client.query<{ name: string }>('SELECT name FROM pg_available_extensions')).rows.map((r) => r.name);
}

/** Logical replication capacity of the connected server. */
export async function readReplicationCapacity(
  client: Client,
): Promise<{ walLevel: string; freeReplicationSlots: number; freeWalSenders: number; maxSlotWalKeepSize: string; notDurable: string[] }> {
  const row = await queryOne<{ wal_level: string; free_slots: number; free_senders: number; keep: string; off: string[] }>(
    client,
    `SELECT current_setting('wal_level') AS wal_level, current_setting('max_slot_wal_keep_size') AS keep,
            ARRAY(SELECT name FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')
                   AND setting = 'off' ORDER BY name) AS off,
            current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_replication_slots)::int AS free_slots,
            current_setting('max_wal_senders')::int - (SELECT count(*) FROM pg_stat_replication)::int AS free_senders`,
  );
  return {
    walLevel: row!.wal_level,
    freeReplicationSlots: row!.free_slots,
    freeWalSenders: row!.free_senders,
    maxSlotWalKeepSize: row!.keep,
    notDurable: row!.off,
  };
}

export interface LoginRole {
  readonly canLogin: boolean;
  /** Undefined where pg_authid is not readable (no superuser): pg_roles hides whether a password is set. */
  readonly hasPassword?: boolean;
}

/** Every role with whether it can log in and, where pg_authid is readable, whether it has a password. */
export async function loginRoles(client: Client): Promise<Record<string, LoginRole>> {
  const readable = await queryOne<{ ok: boolean }>(client, `SELECT has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS ok`);
  const { rows } = await client.query<{ name: string; can_login: boolean; has_password: boolean | null }>(
    readable?.ok
      ? `SELECT rolname AS name, rolcanlogin AS can_login, rolpassword IS NOT NULL AS has_password
           FROM pg_authid WHERE rolname NOT LIKE 'pg\\_%'`
      : `SELECT rolname AS name, rolcanlogin AS can_login, NULL::boolean AS has_password FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%'`,
  );
  return Object.fromEntries(
    rows.map((r) => [r.name, { canLogin: r.can_login, ...(r.has_password === null ? {} : { hasPassword: r.has_password }) }]),
  );
}

/** The default collation's provider and library version, as the server sees it now. */
export async function readCollation(client: Client): Promise<{ provider: string; version: string | null }> {
  const row = await queryOne<{ provider: string; version: string | null }>(
    client,
    `SELECT CASE datlocprovider WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END AS provider,
            pg_database_collation_actual_version(oid) AS version
       FROM pg_database WHERE datname = current_database()`,
  );
  return row!;
}

const PROVIDER = `CASE co.collprovider WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' WHEN 'c' THEN 'libc' ELSE 'default' END`;

/**
 * The collations other than the database default that the application's columns and indexes use,
 * with their library versions now.
 */
export async function collationsInUse(client: Client): Promise<CollationVersion[]> {
  const { rows } = await client.query<CollationVersion>(
    `SELECT format('%I.%I', n.nspname, co.collname) AS name, ${PROVIDER} AS provider, pg_collation_actual_version(co.oid) AS version
       FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
      WHERE co.oid <> 100 AND co.oid IN (
        SELECT a.attcollation FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
         WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'm')
           AND cn.nspname NOT IN ('pg_catalog', 'information_schema') AND cn.nspname NOT LIKE 'pg_toast%'
        UNION
        SELECT unnest(i.indcollation::oid[])
          FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
         WHERE cn.nspname NOT IN ('pg_catalog', 'information_schema') AND cn.nspname NOT LIKE 'pg_toast%')
      ORDER BY 1`,
  );
  return rows;
}

/** The library version, as this server sees it now, of each of `names` the connected database has. */
export async function collationVersions(client: Client, names: ReadonlyArray<string>): Promise<CollationVersion[]> {
  if (!names.length) return [];
  const { rows } = await client.query<CollationVersion>(
    `SELECT format('%I.%I', n.nspname, co.collname) AS name, ${PROVIDER} AS provider, pg_collation_actual_version(co.oid) AS version
       FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
      WHERE format('%I.%I', n.nspname, co.collname) = ANY ($1::text[]) ORDER BY 1`,
    [names],
  );
  return rows;
}

/** What the server offers of each extension (its default version), by name. */
export async function availableVersions(client: Client): Promise<Record<string, string>> {
  return Object.fromEntries(
    (await client.query<{ name: string; v: string }>('SELECT name, default_version AS v FROM pg_available_extensions')).rows.map((r) => [
      r.name,
      r.v,
    ]),
  );
}

/**
 * Updates every installed extension the server offers a newer version of (a major upgrade's green):
 * `ALTER EXTENSION … UPDATE`. Returns what moved, `name old → new`.
 */
export async function updateExtensions(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string; installed: string; offered: string }>(
    `SELECT e.extname AS name, e.extversion AS installed, a.default_version AS offered
       FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname WHERE e.extversion <> a.default_version ORDER BY 1`,
  );
  const moved: string[] = [];
  for (const r of rows) {
    await client.query(`ALTER EXTENSION ${quoteIdent(r.name)} UPDATE`);
    const now = (await queryOne<{ v: string }>(client, 'SELECT extversion AS v FROM pg_extension WHERE extname = $1', [r.name]))!.v;
    if (now !== r.installed) moved.push(`${r.name} ${r.installed} → ${now}`);
  }
  return moved;
}
