/**
 * The sandbox's "managed" profile: each cluster gets an admin role shaped like a managed service's
 * (LOGIN, CREATEDB, CREATEROLE, REPLICATION, pg_signal_backend, pg_monitor, on 16+ pg_create_subscription;
 * never SUPERUSER, never pg_read_all_data, which would make pg_authid readable), and password
 * authentication everywhere: after the sandbox's own setup, trust is removed even from the local socket.
 */
import { versionFeatures } from '../core/versions.js';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { quoteIdent, quoteLiteral } from '../core/quote.js';
import { type ClusterInfo, runAs, writeFileAs } from './cluster.js';
import type { OsUser } from './os-user.js';

export interface ManagedAdmin {
  readonly user: string;
  readonly password: string;
}

export const MANAGED_ADMIN = 'dbadmin';

async function asSuperuser(cluster: ClusterInfo, database: string, fn: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({
    host: cluster.socketDir,
    port: cluster.port,
    user: cluster.superuser,
    password: cluster.password,
    database,
  });
  await client.connect();
  try {
    await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates the admin role; on blue it is made owner of the application database (its public schema follows: pg_database_owner). */
export async function createManagedAdmin(cluster: ClusterInfo, appDatabase: string | undefined): Promise<ManagedAdmin> {
  const admin = { user: MANAGED_ADMIN, password: randomBytes(12).toString('base64url') };
  await asSuperuser(cluster, 'postgres', async (client) => {
    // Utility statements take no parameters: the name and the password go through the one quoting helper.
    await client.query(
      `CREATE ROLE ${quoteIdent(admin.user)} LOGIN CREATEDB CREATEROLE REPLICATION PASSWORD ${quoteLiteral(admin.password)}`,
    );
    await client.query(`GRANT pg_signal_backend, pg_monitor TO ${quoteIdent(admin.user)}`);
    // 16+: what vanilla PostgreSQL offers in place of the services' own permission to subscribe.
    if (versionFeatures(cluster.major).createSubscriptionRole)
      await client.query(`GRANT pg_create_subscription TO ${quoteIdent(admin.user)}`);
    if (appDatabase) await client.query(`ALTER DATABASE ${quoteIdent(appDatabase)} OWNER TO ${quoteIdent(admin.user)}`);
  });
  return admin;
}

/** Password authentication on every line, the socket included: as on a service, nothing is trusted. */
export async function requirePasswords(cluster: ClusterInfo, user?: OsUser, hostssl = false): Promise<void> {
  const host = hostssl ? 'hostssl' : 'host';
  writeFileAs(
    path.join(cluster.dataDir, 'pg_hba.conf'),
    [
      'local all all scram-sha-256',
      'local replication all scram-sha-256',
      `${host} all all 127.0.0.1/32 scram-sha-256`,
      `${host} replication all 127.0.0.1/32 scram-sha-256`,
      'host all all 0.0.0.0/0 reject',
      '',
    ].join('\n'),
    user,
  );
  await runAs(user, path.join(cluster.binDir, 'pg_ctl'), ['-D', cluster.dataDir, 'reload']);
}
