/** Each integration test file gets its own sandbox: real blue and green clusters and a real PgBouncer. */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parseConfig, type Config } from '../../src/core/config.js';
import { createDeps, type Deps } from '../../src/commands/context.js';
import { silentProgress } from '../../src/adapters/progress.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/sandbox.js';
import { seedTradingApp } from '../../src/sandbox/trading-app.js';
import { DEMO_MIGRATIONS } from '../../src/sandbox/demo.js';

export interface Rig {
  readonly sandbox: Sandbox;
  readonly dir: string;
  readonly configFile: string;
  readonly config: Config;
  readonly deps: Deps;
  readonly migrationsDir: string;
  /** The environment the config's ${VARS} resolve from (passwords stay out of the file). */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

export interface RigOptions extends SandboxOptions {
  readonly seed?: boolean;
  readonly scale?: number;
  /** Extra config keys (e.g. another pointer). */
  readonly config?: Record<string, unknown>;
}

export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const sandbox = await startSandbox({ fast: true, ...options });
  try {
    const managed = sandbox.managedAdmin;
    // Managed profile: the admin owns the tables and the tool connects as it; the app role only writes.
    if (options.seed !== false) await seedTradingApp(sandbox.blueUrl, options.scale ?? 0.1, managed?.user ?? sandbox.appUser, managed ? sandbox.appUser : undefined);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bluegreen-test-'));
    const migrationsDir = path.join(dir, 'migrations');
    cpSync(DEMO_MIGRATIONS, migrationsDir, { recursive: true });
    const env = {
      TEST_BLUE_PASSWORD: managed?.bluePassword ?? sandbox.blue.password,
      TEST_GREEN_PASSWORD: managed?.greenPassword ?? sandbox.green.password,
      TEST_PGB_PASSWORD: sandbox.pgbouncer.adminPassword,
    };
    const role = managed?.user ?? 'postgres';
    const json = {
      blue: `postgres://${role}:\${TEST_BLUE_PASSWORD}@127.0.0.1:${sandbox.blue.port}/${sandbox.database}${sandbox.urlParams}`,
      green: `postgres://${role}:\${TEST_GREEN_PASSWORD}@127.0.0.1:${sandbox.green.port}/${sandbox.database}${sandbox.urlParams}`,
      mode: 'freeze',
      migrations: { dir: 'migrations' },
      pointer: { type: 'pgbouncer', admin: `postgres://pgbadmin:\${TEST_PGB_PASSWORD}@127.0.0.1:${sandbox.pgbouncer.port}/pgbouncer${sandbox.urlParams}`, ini: sandbox.pgbouncer.ini, database: sandbox.database },
      switchover: { timeoutMs: 15000 },
      ...options.config,
    };
    const configFile = path.join(dir, 'bluegreen.config.json');
    writeFileSync(configFile, JSON.stringify(json, null, 2));
    const config = parseConfig(JSON.stringify(json), configFile, env);
    return {
      sandbox,
      dir,
      configFile,
      config,
      deps: createDeps(config, silentProgress),
      migrationsDir,
      env,
      stop: () => sandbox.stop(),
    };
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
}

/** Runs one query on a URL and returns the rows. */
export async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

export async function count(url: string, table: string): Promise<number> {
  return Number((await sql<{ n: string }>(url, `SELECT count(*) AS n FROM ${table}`))[0].n);
}

/** Acknowledged order ids that are not in `url`'s orders table: every writer test's "nothing lost". */
export async function missingOrders(url: string, ids: ReadonlyArray<number>): Promise<number[]> {
  const rows = await sql<{ id: string }>(url, `SELECT unnest($1::bigint[]) AS id EXCEPT SELECT id FROM orders`, [ids]);
  return rows.map((r) => Number(r.id));
}
