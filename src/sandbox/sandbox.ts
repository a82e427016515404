/**
 * The sandbox: blue and green clusters and a PgBouncer in front of blue, from local binaries on free
 * ports. `bluegreen demo` and the integration tests both start it here.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { findServerBinDir } from '../adapters/pg-binaries.js';
import { quoteIdent, quoteLiteral } from '../core/quote.js';
import { type ClusterInfo, clusterUrl, startCluster, stopCluster, writeFileAs } from './cluster.js';
import { serverUser, type OsUser } from './os-user.js';
import { type BouncerInfo, startPgbouncer, stopPgbouncer } from './pgbouncer.js';
import { createManagedAdmin, requirePasswords } from './managed.js';
import { makeTls } from './tls.js';

export interface SandboxOptions {
  /** Major version of blue (default: the newest installed); green uses `greenMajor` or the same. */
  readonly blueMajor?: number;
  readonly greenMajor?: number;
  /** Name of the application database and of the role that owns it. */
  readonly database?: string;
  readonly appUser?: string;
  readonly fast?: boolean;
  readonly poolMode?: 'transaction' | 'session';
  /** Create the application database on green too (empty). Default: leave green without it. */
  readonly createGreenDatabase?: boolean;
  /** TLS everywhere: a CA the sandbox makes, `hostssl` only on both clusters, PgBouncer requiring TLS and verifying servers. */
  readonly tls?: boolean;
  /** The clusters' superuser password (default: random), e.g. one with characters that need escaping. */
  readonly superuserPassword?: string;
  /** How many PgBouncer instances front blue (a fleet); default 1. */
  readonly pgbouncers?: number;
  /** The host name PgBouncer's [databases] entry uses for blue (default 127.0.0.1): another address than the controller's. */
  readonly poolerHost?: string;
  /** A managed service's shape: the tool connects as an admin role without SUPERUSER, passwords required everywhere. */
  readonly managed?: boolean;
}

export interface Sandbox {
  readonly dir: string;
  readonly user?: OsUser;
  readonly blue: ClusterInfo;
  readonly green: ClusterInfo;
  readonly pgbouncer: BouncerInfo;
  /** Every PgBouncer instance (the first is `pgbouncer`). */
  readonly pgbouncers: ReadonlyArray<BouncerInfo>;
  /** TLS: the CA certificate to verify against; undefined without TLS. */
  readonly caFile?: string;
  /** `?sslmode=verify-full&sslrootcert=…` with TLS, '' without: what the sandbox's URLs end with. */
  readonly urlParams: string;
  readonly database: string;
  readonly appUser: string;
  readonly appPassword: string;
  /** Superuser URLs of the application database, for the tool's config. */
  readonly blueUrl: string;
  readonly greenUrl: string;
  /** What the application uses: the database through PgBouncer, as the app role. */
  readonly appUrl: string;
  readonly adminUrl: string;
  /** Managed profile: the admin role on each side (same name, own password) and its URLs of the application database. */
  readonly managedAdmin?: {
    readonly user: string;
    readonly bluePassword: string;
    readonly greenPassword: string;
    readonly blueUrl: string;
    readonly greenUrl: string;
  };
  stop(): Promise<void>;
}

const STATE_FILE = 'sandbox.json';

/** A URL through PgBouncer on this machine (the admin console is its database `pgbouncer`). */
function bouncerUrl(port: number, user: string, password: string, database: string, urlParams: string): string {
  const who = `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
  return `postgres://${who}@127.0.0.1:${port}/${encodeURIComponent(database)}${urlParams}`;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const user = serverUser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bluegreen-sandbox-'));
  chmodSync(dir, 0o711);
  const database = options.database ?? 'app';
  const appUser = options.appUser ?? 'app';
  const appPassword = randomBytes(12).toString('base64url');
  const blueBin = findServerBinDir(options.blueMajor);
  const greenBin = findServerBinDir(options.greenMajor ?? blueBin.major);
  const started: ClusterInfo[] = [];
  const bouncers: BouncerInfo[] = [];
  const stop = async () => {
    await Promise.all(bouncers.map((b) => stopPgbouncer(b.pidFile)));
    await Promise.all(started.map((c) => stopCluster(c, user)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const tls = options.tls ? await makeTls(dir, user) : undefined;
    const urlParams = tls ? `?sslmode=verify-full&sslrootcert=${encodeURIComponent(tls.caFile)}` : '';
    const clusterOptions = { dir, user, fast: options.fast, tls, password: options.superuserPassword };
    const [blue, green] = await Promise.all([
      startCluster({ ...clusterOptions, name: 'blue', binDir: blueBin.dir, major: blueBin.major }),
      startCluster({ ...clusterOptions, name: 'green', binDir: greenBin.dir, major: greenBin.major }),
    ]);
    started.push(blue, green);
    await setupAppDatabase(blue, database, appUser, appPassword, true);
    if (options.createGreenDatabase) await setupAppDatabase(green, database, appUser, appPassword, false);
    const managed = options.managed ? await managedProfile(blue, green, database, user, !!tls) : undefined;
    for (let i = 0; i < (options.pgbouncers ?? 1); i++) {
      bouncers.push(
        await startPgbouncer({
          dir,
          user,
          name: i === 0 ? 'pgbouncer' : `pgbouncer${i + 1}`,
          poolMode: options.poolMode,
          tls,
          databases: { [database]: `host=${options.poolerHost ?? '127.0.0.1'} port=${blue.port} dbname=${database}` },
          users: { [appUser]: appPassword },
        }),
      );
    }
    const pgbouncer = bouncers[0];
    const sandbox: Sandbox = {
      dir,
      user,
      blue,
      green,
      pgbouncer,
      pgbouncers: bouncers,
      caFile: tls?.caFile,
      urlParams,
      database,
      appUser,
      appPassword,
      blueUrl: `${clusterUrl(blue, database)}${urlParams}`,
      greenUrl: `${clusterUrl(green, database)}${urlParams}`,
      appUrl: bouncerUrl(pgbouncer.port, appUser, appPassword, database, urlParams),
      adminUrl: bouncerUrl(pgbouncer.port, pgbouncer.adminUser, pgbouncer.adminPassword, 'pgbouncer', urlParams),
      managedAdmin: managed && {
        user: managed.blue.user,
        bluePassword: managed.blue.password,
        greenPassword: managed.green.password,
        blueUrl: `${clusterUrl({ ...blue, superuser: managed.blue.user }, database, managed.blue.password)}${urlParams}`,
        greenUrl: `${clusterUrl({ ...green, superuser: managed.green.user }, database, managed.green.password)}${urlParams}`,
      },
      stop,
    };
    // Enough to stop it again later (`bluegreen demo --stop DIR`); no secrets in it.
    writeFileAs(
      path.join(dir, STATE_FILE),
      JSON.stringify(
        {
          clusters: started.map((c) => ({ binDir: c.binDir, dataDir: c.dataDir })),
          pgbouncerPidFile: pgbouncer.pidFile,
          pgbouncerPidFiles: bouncers.map((b) => b.pidFile),
        },
        null,
        2,
      ),
      undefined,
    );
    return sandbox;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Stops a sandbox left running by `demo --keep`, from its folder. */
export async function stopSandboxDir(dir: string): Promise<void> {
  const file = path.join(dir, STATE_FILE);
  if (!existsSync(file)) throw new Error(`${dir} is not a pg-bluegreen sandbox (no ${STATE_FILE})`);
  const saved = JSON.parse(readFileSync(file, 'utf8')) as {
    clusters: Array<{ binDir: string; dataDir: string }>;
    pgbouncerPidFile: string;
    pgbouncerPidFiles?: string[];
  };
  const user = serverUser();
  await Promise.all((saved.pgbouncerPidFiles ?? [saved.pgbouncerPidFile]).map((f) => stopPgbouncer(f)));
  await Promise.all(saved.clusters.map((c) => stopCluster(c, user)));
  rmSync(dir, { recursive: true, force: true });
}

/** The managed profile on both clusters: the admin roles, then passwords required everywhere. */
async function managedProfile(blue: ClusterInfo, green: ClusterInfo, database: string, user: OsUser | undefined, tls: boolean) {
  const admins = { blue: await createManagedAdmin(blue, database), green: await createManagedAdmin(green, undefined) };
  await Promise.all([requirePasswords(blue, user, tls), requirePasswords(green, user, tls)]);
  return admins;
}

async function setupAppDatabase(cluster: ClusterInfo, database: string, appUser: string, appPassword: string, createRole: boolean) {
  const client = new pg.Client({ host: cluster.socketDir, port: cluster.port, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    // Utility statements take no parameters: names and the password go through the one quoting helper.
    if (createRole) await client.query(`CREATE ROLE ${quoteIdent(appUser)} LOGIN PASSWORD ${quoteLiteral(appPassword)}`);
    await client.query(`CREATE DATABASE ${quoteIdent(database)} OWNER ${quoteIdent(createRole ? appUser : 'postgres')}`);
  } finally {
    await client.end();
  }
}
