/**
 * `bluegreen demo --managed`: the cutover as on a managed service, on the sandbox's managed profile
 * (blue 15, green 17 by default, the tool connected as an admin without SUPERUSER, SCRAM everywhere).
 * It shows what preflight says per capability, what the operator must name (the application role's
 * password, since pg_authid is unreadable) and what is given up (a lossless rollback: blue 15 cannot
 * subscribe without a superuser), then a switchover with a writer running that loses no write.
 */
import path from 'node:path';
import pg from 'pg';
import { parseConfig } from '../core/config.js';
import { lineProgress } from '../adapters/progress.js';
import { writeDemoFiles } from './demo-files.js';
import { _clone } from '../commands/clone.js';
import { _compare } from '../commands/compare.js';
import { createDeps, type Deps } from '../commands/context.js';
import { _migrate } from '../commands/migrate.js';
import { _preflight } from '../commands/preflight.js';
import { _status } from '../commands/status.js';
import { _switchover } from '../commands/switchover.js';
import { renderCompare, renderFindings, renderStatus, renderSteps } from '../cli/render.js';
import { type Sandbox, startSandbox } from './sandbox.js';
import { seedTradingApp, startWriteLoad } from './trading-app.js';

/** The demo stops at a migration that fails: `_migrate` reports the failure, and the demo's story ends there. */
async function migrated(deps: Deps): Promise<void> {
  const result = await _migrate(deps);
  if (!result.ok) throw new Error(`the demo's migrate failed: ${result.error?.message ?? 'unknown error'}`);
}

export interface ManagedDemoOptions {
  readonly keep?: boolean;
  readonly scale?: number;
  readonly greenMajor?: number;
  readonly migrations: string;
  readonly print: (text: string) => void;
}

async function countOn(url: string, ids: ReadonlyArray<number>): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM orders WHERE id = ANY($1::bigint[])', [ids])).rows[0].n);
  } finally {
    await client.end();
  }
}

/** The demo's config as an operator would write it: secrets named as environment variables, kept in a 0600 file beside it. */
function writeConfig(sandbox: Sandbox, migrations: string, say: (text: string) => void) {
  const admin = sandbox.managedAdmin!;
  // Secrets stay out of the config (and this output): it names environment variables, the app's password included.
  const env = {
    BLUEGREEN_DEMO_BLUE_PASSWORD: admin.bluePassword,
    BLUEGREEN_DEMO_GREEN_PASSWORD: admin.greenPassword,
    BLUEGREEN_DEMO_PGB_PASSWORD: sandbox.pgbouncer.adminPassword,
    BLUEGREEN_DEMO_ROLE_PASSWORD_app: sandbox.appPassword,
  };
  const configJson = {
    blue: `postgres://${admin.user}:\${BLUEGREEN_DEMO_BLUE_PASSWORD}@127.0.0.1:${sandbox.blue.port}/app`,
    green: `postgres://${admin.user}:\${BLUEGREEN_DEMO_GREEN_PASSWORD}@127.0.0.1:${sandbox.green.port}/app`,
    mode: 'replicate',
    migrations: { dir: migrations },
    pointer: {
      type: 'pgbouncer',
      admin: `postgres://pgbadmin:\${BLUEGREEN_DEMO_PGB_PASSWORD}@127.0.0.1:${sandbox.pgbouncer.port}/pgbouncer`,
      ini: sandbox.pgbouncer.ini,
      database: 'app',
    },
    roles: { passwordsEnv: 'BLUEGREEN_DEMO_ROLE_PASSWORD_' },
    stateDir: path.join(sandbox.dir, 'state'),
  };
  const { configFile, envFile } = writeDemoFiles(sandbox.dir, configJson, env);
  // roles.passwordsEnv reads this process's environment, as it would read the operator's shell.
  process.env.BLUEGREEN_DEMO_ROLE_PASSWORD_app = sandbox.appPassword;
  const deps = createDeps(
    parseConfig(JSON.stringify(configJson), configFile, env),
    lineProgress((line) => say(`   ${line}`)),
  );
  return { configFile, envFile, deps };
}

export async function runManagedDemo(options: ManagedDemoOptions): Promise<void> {
  const say = options.print;
  const heading = (text: string) => say(`\n━━ ${text} ${'━'.repeat(Math.max(0, 70 - text.length))}`);
  say('pg-bluegreen demo --managed: a replicate-mode cutover as on a managed service, where nobody is SUPERUSER.');
  say('The tool connects as "dbadmin": LOGIN, CREATEDB, CREATEROLE, REPLICATION, pg_signal_backend, pg_monitor,');
  say('pg_create_subscription on 16+, owner of the database and its tables; no SUPERUSER, no pg_read_all_data; SCRAM on every line.');

  heading('1. Sandbox (managed profile)');
  const sandbox = await startSandbox({ fast: true, managed: true, greenMajor: options.greenMajor ?? 17 });
  let keep = false;
  try {
    const admin = sandbox.managedAdmin!;
    say(`blue   PostgreSQL ${sandbox.blue.major} on 127.0.0.1:${sandbox.blue.port}`);
    say(`green  PostgreSQL ${sandbox.green.major} on 127.0.0.1:${sandbox.green.port} (empty)`);
    say(`pgbouncer on 127.0.0.1:${sandbox.pgbouncer.port}, database "app" → blue; files in ${sandbox.dir}`);
    await seedTradingApp(sandbox.blueUrl, options.scale ?? 1, admin.user, sandbox.appUser);
    say('seeded the v2.5 schema, owned by dbadmin; the application role "app" only reads and writes');

    const { configFile, envFile, deps } = writeConfig(sandbox, options.migrations, say);
    const fail = (what: string, error?: { message: string }) => {
      throw new Error(`the demo's ${what} failed: ${error?.message ?? 'unknown error'}`);
    };

    heading('2. The app writes through PgBouncer (about 100 orders a second)');
    const load = startWriteLoad(sandbox.appUrl, 100, 2);

    heading('3. Preflight: one line per side and capability (bluegreen preflight)');
    say('pg_authid is unreadable: role passwords come from the operator (roles.passwordsEnv names BLUEGREEN_DEMO_ROLE_PASSWORD_app).');
    say(renderFindings((await _preflight(deps)).findings));

    heading('4. Clone, migrate, compare, as dbadmin');
    const clone = await _clone(deps);
    if (!clone.ok) fail('clone', clone.error);
    say(renderSteps(clone.steps));
    await migrated(deps);
    say(renderCompare(await _compare(deps)));

    heading('5. Switch over (bluegreen switchover)');
    say(`Blue ${sandbox.blue.major} cannot host the reverse subscription without a superuser: a rollback would lose green's writes.`);
    say('The switchover refuses:');
    const refused = await _switchover(deps).then(
      () => undefined,
      (error: Error & { hint?: string }) => error,
    );
    if (!refused) fail('refusal of a lossy rollback');
    say(`  ✖ ${refused!.message}\n  ${refused!.hint ?? ''}`);
    say('\nThe operator accepts it knowingly (bluegreen switchover --accept-data-loss):');
    const switchover = await _switchover(deps, { acceptDataLoss: true });
    if (!switchover.ok) fail('switchover', switchover.error);
    say(renderSteps(switchover.steps));
    say(`\nwrite pause (PgBouncer PAUSE → RESUME): ${switchover.writePauseMs} ms`);
    await new Promise((r) => setTimeout(r, 1000));
    const writes = await load.stop();
    say('');
    say(renderStatus(await _status(deps), Date.now()));

    heading('What the app saw');
    const kept = await countOn(sandbox.greenUrl, writes.acknowledged);
    const example = writes.firstRefusal ? ` (e.g. "${writes.firstRefusal}")` : '';
    say(`writes accepted: ${writes.acknowledged.length}; refused: ${writes.refused}${example}`);
    const verdict = kept === writes.acknowledged.length ? ' — none lost' : ' — SOME MISSING';
    say(`accepted writes on green, which serves now: ${kept} of ${writes.acknowledged.length}${verdict}`);
    if (kept !== writes.acknowledged.length) fail('check that no write was lost');

    heading('Done');
    if (options.keep) {
      keep = true;
      say(`The sandbox keeps running: set -a; . ${envFile}; set +a; bluegreen status --config ${configFile}`);
      say(`Stop it with: bluegreen demo --stop ${sandbox.dir}`);
    } else {
      say('Stopping the sandbox (add --keep to leave it up).');
    }
  } finally {
    delete process.env.BLUEGREEN_DEMO_ROLE_PASSWORD_app;
    if (!keep) await sandbox.stop();
  }
}
