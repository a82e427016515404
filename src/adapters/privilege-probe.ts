/**
 * The privilege probe: what the configured role may do on one side, read from the catalog and found by
 * trying the statements that need a superuser on vanilla PostgreSQL, each inside a transaction that is
 * rolled back (managed services change who may run them, so trying is the only sure answer).
 */
import { randomBytes } from 'node:crypto';
import type { PrivilegeFacts, Trial } from '../core/privileges.js';
import { quoteIdent } from '../core/quote.js';
import { majorOf } from '../core/versions.js';
import { type Client, queryOne } from './pg.js';

/** Roles whose membership changes what the cutover may do: PostgreSQL's own and the services' admin roles. */
const ROLES_OF_INTEREST = [
  'pg_signal_backend',
  'pg_monitor',
  'pg_create_subscription',
  'pg_read_all_data',
  'pg_write_all_data',
  'pg_read_all_settings',
  'rds_superuser',
  'rds_replication',
  'cloudsqlsuperuser',
  'azure_pg_admin',
  'neon_superuser',
  'supabase_admin',
];

/** Runs one statement under a savepoint; a refusal is a fact, not an error. */
async function attempt(client: Client, statements: ReadonlyArray<string>): Promise<Trial> {
  await client.query('SAVEPOINT bluegreen_probe');
  try {
    for (const sql of statements) await client.query(sql);
    return { ok: true };
  } catch (error) {
    const e = error as { code?: string; message: string };
    return { ok: false, error: `${e.code ?? ''} ${e.message.split('\n')[0]}`.trim() };
  } finally {
    await client.query('ROLLBACK TO SAVEPOINT bluegreen_probe');
  }
}

async function trials(client: Client): Promise<PrivilegeFacts['trials']> {
  // Random names: two probes at once never meet, and nothing here survives the rollback.
  const tag = `bluegreen_probe_${randomBytes(4).toString('hex')}`;
  return {
    eventTrigger: await attempt(client, [
      `CREATE FUNCTION pg_temp.${quoteIdent(tag)}() RETURNS event_trigger LANGUAGE plpgsql AS $fn$ BEGIN END $fn$`,
      `CREATE EVENT TRIGGER ${quoteIdent(tag)} ON ddl_command_start EXECUTE FUNCTION pg_temp.${quoteIdent(tag)}()`,
    ]),
    // connect = false: nothing is contacted and no slot made. A non-superuser on 16+ must name a password
    // in the connection string (password_required), so a placeholder one is given; it is never used.
    subscription: await attempt(client, [
      `CREATE SUBSCRIPTION ${quoteIdent(tag)} CONNECTION 'host=127.0.0.1 dbname=postgres password=unused'
         PUBLICATION ${quoteIdent(tag)} WITH (connect = false)`,
    ]),
    sessionReplicationRole: await attempt(client, ['SET LOCAL session_replication_role = replica']),
    readAuthid: await attempt(client, ['SELECT 1 FROM pg_authid LIMIT 1']),
  };
}

/** Probes the connected database for the current role. Changes nothing: every trial is rolled back. */
export async function probePrivileges(client: Client): Promise<PrivilegeFacts> {
  const role = await queryOne<{
    user: string;
    num: string;
    superuser: boolean;
    createrole: boolean;
    createdb: boolean;
    replication: boolean;
    create_db: boolean;
  }>(
    client,
    `SELECT current_user AS user, current_setting('server_version_num') AS num, r.rolsuper AS superuser, r.rolcreaterole AS createrole,
            r.rolcreatedb AS createdb, r.rolreplication AS replication, has_database_privilege(current_database(), 'CREATE') AS create_db
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  const memberships = (
    await client.query<{ rolname: string }>(
      `SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[]) AND pg_has_role(current_user, oid, 'MEMBER')`,
      [ROLES_OF_INTEREST],
    )
  ).rows.map((r) => r.rolname);
  // Ownership acts through inherited membership (USAGE), as ALTER TABLE and CREATE TRIGGER check it.
  const notOwned = (
    await client.query<{ name: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p'
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'bluegreen') AND n.nspname NOT LIKE 'pg\\_%'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
          AND NOT pg_has_role(current_user, c.relowner, 'USAGE')
        ORDER BY 1`,
    )
  ).rows.map((r) => r.name);
  await client.query('BEGIN');
  let tried: PrivilegeFacts['trials'];
  try {
    tried = await trials(client);
  } finally {
    await client.query('ROLLBACK');
  }
  const r = role!;
  return {
    major: majorOf(r.num),
    user: r.user,
    superuser: r.superuser,
    createrole: r.createrole || r.superuser,
    createdb: r.createdb || r.superuser,
    replication: r.replication || r.superuser || memberships.includes('rds_replication'),
    memberships,
    tablesNotOwned: notOwned,
    createOnDatabase: r.create_db,
    trials: tried,
  };
}

/**
 * Whether this role may read large objects' pages (pg_largeobject: superusers only), and how many large
 * objects the database has (pg_largeobject_metadata: readable by all). Without a superuser and without
 * large objects there is nothing to carry; with them, nothing can carry them.
 */
export async function largeObjectAccess(client: Client): Promise<{ readable: boolean; count: number }> {
  const row = await queryOne<{ readable: boolean; count: number }>(
    client,
    `SELECT has_table_privilege('pg_catalog.pg_largeobject', 'SELECT') AS readable,
            (SELECT count(*) FROM pg_largeobject_metadata)::int AS count`,
  );
  return row!;
}
