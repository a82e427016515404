/** `bluegreen preflight`: every check before anything is created, each ok | warn | block with its fix. */
import { statfsSync, existsSync } from 'node:fs';
import path from 'node:path';
import { withDatabase } from '../core/conninfo.js';
import { BlockedError } from '../core/errors.js';
import { type Finding, preflightFindings, type PreflightFacts } from '../core/preflight-rules.js';
import type { CutoverState } from '../core/state.js';
import { sameTargetAs } from '../core/pgbouncer-ini.js';
import { listTables } from '../adapters/catalog.js';
import { findTool } from '../adapters/pg-binaries.js';
import { type Client, queryOne, serverMajor, withClient } from '../adapters/pg.js';
import { targetOf } from '../adapters/pointer.js';
import { readMigrationPlan } from './migrate.js';
import { conn, type Deps, loadState } from './context.js';

async function serverFacts(client: Client) {
  // A physical copy shares the system identifier: the data directory and start time tell one server from another.
  const row = await queryOne<{ version: string; superuser: boolean; system_id: string }>(
    client,
    `SELECT current_setting('server_version') AS version, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
            (SELECT system_identifier::text FROM pg_control_system()) || ' ' || current_setting('data_directory') || ' ' || pg_postmaster_start_time() AS system_id`,
  );
  return { version: row!.version, major: await serverMajor(client), superuser: row!.superuser, systemId: row!.system_id };
}

async function blueFacts(client: Client) {
  const base = await serverFacts(client);
  const tables = await listTables(client);
  const settings = await queryOne<{ wal_level: string; free_slots: number; free_senders: number; large_objects: number; size: string }>(
    client,
    `SELECT current_setting('wal_level') AS wal_level,
            current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_replication_slots)::int AS free_slots,
            current_setting('max_wal_senders')::int - (SELECT count(*) FROM pg_stat_replication)::int AS free_senders,
            (SELECT count(*) FROM pg_largeobject_metadata)::int AS large_objects,
            pg_database_size(current_database())::text AS size`,
  );
  const long = await client.query<{ pid: number; seconds: number; who: string }>(
    `SELECT pid, extract(epoch FROM now() - xact_start)::float8 AS seconds, coalesce(usename, '?') || ' ' || coalesce(application_name, '') AS who
       FROM pg_stat_activity WHERE datname = current_database() AND xact_start IS NOT NULL AND pid <> pg_backend_pid()
      ORDER BY xact_start LIMIT 10`,
  );
  const ext = await client.query<{ extname: string }>(`SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1`);
  return {
    ...base,
    walLevel: settings!.wal_level,
    freeReplicationSlots: settings!.free_slots,
    freeWalSenders: settings!.free_senders,
    largeObjects: settings!.large_objects,
    sizeBytes: Number(settings!.size),
    tablesWithoutKey: tables.filter((t) => !t.hasPrimaryKey && t.replicaIdentity !== 'f' && t.replicaIdentity !== 'i').map((t) => t.display),
    unloggedTables: tables.filter((t) => t.unlogged).map((t) => t.display),
    longTransactions: long.rows,
    extensions: ext.rows.map((r) => r.extname),
  };
}

/** Whether the last cutover left green's database ours to drop and re-create (blue serving, green filled by us). */
export function greenResettable(state: CutoverState): boolean {
  return state.greenDatabaseCreated && state.serving === 'blue' && (state.phase === 'aborted' || state.phase === 'rolled-back');
}

/** Reads every fact preflight needs; unreachable parts become findings, not exceptions. */
export async function gatherFacts(deps: Deps, state: CutoverState): Promise<PreflightFacts> {
  const { config } = deps;
  const database = targetOf(config.green).database;
  const capture = async <T extends object>(fn: () => Promise<T>): Promise<T | { error: string }> => {
    try {
      return await fn();
    } catch (error) {
      return { error: (error as Error).message.split('\n')[0] };
    }
  };
  const blue = await capture(() => withClient(config.blue, blueFacts, { ...conn(deps, 'blue', 'preflight'), connectTimeoutMs: 5000 }));
  const green = await capture(() =>
    withClient(
      withDatabase(config.green, 'postgres'),
      async (client) => {
        const base = await serverFacts(client);
        const exists = (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount! > 0;
        const available = await client.query<{ name: string }>('SELECT name FROM pg_available_extensions');
        let userTables = 0;
        if (exists) userTables = await withClient(config.green, async (g) => (await listTables(g)).length, conn(deps, 'green', 'preflight'));
        return { ...base, databaseExists: exists, userTables, availableExtensions: available.rows.map((r) => r.name) };
      },
      { ...conn(deps, 'green', 'preflight'), connectTimeoutMs: 5000 },
    ),
  );
  let tools: PreflightFacts['tools'];
  try {
    tools = { pgDump: 'major' in blue ? findTool('pg_dump', blue.major, config.binDir) : undefined };
  } catch (error) {
    tools = { error: (error as Error).message };
  }
  let pointer: PreflightFacts['pointer'] = { description: deps.pointer.description };
  try {
    await deps.pointer.check();
    const current = await deps.pointer.current();
    pointer = {
      ...pointer,
      pointsAt: sameTargetAs(current, targetOf(config.blue)) ? 'blue' : sameTargetAs(current, targetOf(config.green)) ? 'green' : 'elsewhere',
    };
  } catch (error) {
    pointer = { ...pointer, error: (error as Error).message.split('\n')[0] };
  }
  let dumpDirFreeBytes: number | undefined;
  let dir = config.dumpDir;
  while (!existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  try {
    const fs = statfsSync(dir);
    dumpDirFreeBytes = Number(fs.bavail) * Number(fs.bsize);
  } catch {
    dumpDirFreeBytes = undefined;
  }
  let migrations: PreflightFacts['migrations'] = {};
  if (config.migrations && 'dir' in config.migrations) {
    try {
      const plan = await readMigrationPlan(config.migrations.dir, []);
      migrations = { pending: plan.pending.length };
    } catch (error) {
      migrations = { error: (error as Error).message.split('\n')[0] };
    }
  }
  return {
    mode: config.mode,
    database,
    blue,
    green,
    greenResettable: greenResettable(state),
    tools,
    pointer,
    dumpDirFreeBytes,
    dumpDir: config.dumpDir,
    migrations,
  };
}

export interface PreflightResult {
  readonly ok: boolean;
  readonly findings: ReadonlyArray<Finding>;
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string; readonly exitCode: number };
}

export async function _preflight(deps: Deps): Promise<PreflightResult> {
  const state = await loadState(deps);
  const findings = preflightFindings(await gatherFacts(deps, state));
  const blocks = findings.filter((f) => f.status === 'block').length;
  await deps.store.audit({ at: deps.clock.now().toISOString(), by: deps.who, command: 'preflight', cutover: state.id, outcome: blocks ? 'blocked' : 'ok' });
  if (!blocks) return { ok: true, findings };
  return {
    ok: false,
    findings,
    error: { code: 'blocked', exitCode: 3, message: `preflight found ${blocks} blocking problem${blocks > 1 ? 's' : ''}`, hint: 'Fix each ✖ above, then run `bluegreen preflight` again. Nothing was changed.' },
  };
}

/** Throws BlockedError (exit 3) naming each blocking finding; used before clone. */
export function assertNotBlocked(findings: ReadonlyArray<Finding>): void {
  const blocks = findings.filter((f) => f.status === 'block');
  if (blocks.length === 0) return;
  throw new BlockedError(`preflight found ${blocks.length} blocking problem${blocks.length > 1 ? 's' : ''}:\n${blocks.map((b) => `  ✖ ${b.message}${b.fix ? `\n    fix: ${b.fix}` : ''}`).join('\n')}`, {
    hint: 'Fix them and run `bluegreen preflight` again; nothing was changed.',
  });
}
