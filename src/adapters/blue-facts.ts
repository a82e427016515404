/** What preflight needs to know about blue: capacity for replication, tables, transactions, size, extensions. */
import type { BlueFacts } from '../core/preflight-rules.js';
import { quoteQualified } from '../core/quote.js';
import { listTables, type TableRef } from './catalog/tables.js';
import { collationsInUse, loginRoles, readCollation, readReplicationCapacity, readServerFacts } from './database.js';
import { type Client, queryOne } from './pg.js';

export async function readBlueFacts(client: Client): Promise<BlueFacts> {
  const base = await readServerFacts(client);
  const tables = await listTables(client);
  const capacity = await readReplicationCapacity(client);
  const settings = await queryOne<{ large_objects: number; size: string }>(
    client,
    `SELECT (SELECT count(*) FROM pg_largeobject_metadata)::int AS large_objects,
            pg_database_size(current_database())::text AS size`,
  );
  const long = await client.query<{ pid: number; seconds: number; who: string }>(
    `SELECT pid, extract(epoch FROM now() - xact_start)::float8 AS seconds,
            coalesce(usename, '?') || ' ' || coalesce(application_name, '') AS who
       FROM pg_stat_activity WHERE datname = current_database() AND xact_start IS NOT NULL AND pid <> pg_backend_pid()
      ORDER BY xact_start LIMIT 10`,
  );
  // Ours are named bluegreen_… (replicationNames): everything else is the application's.
  const publications = await client.query<{ name: string }>(
    `SELECT quote_ident(pubname) AS name FROM pg_publication WHERE pubname NOT LIKE 'bluegreen\\_%' ORDER BY 1`,
  );
  const ext = await client.query<{ extname: string; extversion: string }>(
    `SELECT extname, extversion FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1`,
  );
  return {
    ...base,
    ...capacity,
    largeObjects: settings!.large_objects,
    sizeBytes: Number(settings!.size),
    // An unlogged table is never published (PostgreSQL refuses it): it needs no replica identity.
    tablesWithoutKey: tables
      .filter((t) => !t.unlogged && !t.hasPrimaryKey && t.replicaIdentity !== 'f' && t.replicaIdentity !== 'i')
      .map((t) => t.display),
    unloggedTables: tables.filter((t) => t.unlogged).map((t) => t.display),
    publications: publications.rows.map((r) => r.name),
    unloggedRows: await unloggedRows(
      client,
      tables.filter((t) => t.unlogged),
    ),
    longTransactions: long.rows,
    extensions: ext.rows.map((r) => r.extname),
    extensionVersions: Object.fromEntries(ext.rows.map((r) => [r.extname, r.extversion])),
    collation: await readCollation(client),
    collationsInUse: await collationsInUse(client),
    loginRoles: await loginRoles(client),
  };
}

/** Each unlogged table's rows now: whether a flip will copy it inside the pause or refuse (flip-unlogged.ts). */
async function unloggedRows(client: Client, tables: ReadonlyArray<TableRef>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables)
    out[t.display] = Number((await queryOne<{ n: string }>(client, `SELECT count(*) AS n FROM ${quoteQualified(t.schema, t.name)}`))!.n);
  return out;
}
