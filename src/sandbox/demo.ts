/**
 * `bluegreen demo`: a full cutover (replicate mode, or freeze) on a local sandbox, explained as it goes, with a
 * write load running through PgBouncer the whole time. Uses the same commands an operator runs.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type Config, parseConfig } from '../core/config.js';
import { formatDuration } from '../core/duration.js';
import { lineProgress } from '../adapters/progress.js';
import { writeDemoFiles } from './demo-files.js';
import { _clone } from '../commands/clone.js';
import { _compare } from '../commands/compare.js';
import { createDeps, type Deps } from '../commands/context.js';
import { _migrate } from '../commands/migrate.js';
import { _preflight } from '../commands/preflight.js';
import { _status } from '../commands/status.js';
import { _rollback, _switchover } from '../commands/switchover.js';
import { renderCompare, renderFindings, renderStatus, renderSteps } from '../cli/render.js';
import { type Sandbox, startSandbox, stopSandboxDir } from './sandbox.js';
import { seedTradingApp, startWriteLoad } from './trading-app.js';

/** The demo stops at a migration that fails: `_migrate` reports the failure, and the demo's story ends there. */
async function migrated(deps: Deps): Promise<void> {
  const result = await _migrate(deps);
  if (!result.ok) throw new Error(`the demo's migrate failed: ${result.error?.message ?? 'unknown error'}`);
}

/** The migrations shipped with the package (the demo's v2.5 → v2.6). */
export const DEMO_MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

export interface DemoOptions {
  readonly keep?: boolean;
  readonly scale?: number;
  readonly mode?: 'replicate' | 'freeze';
  readonly print: (text: string) => void;
  /** Green on another major version (16, 17, 18): a major upgrade. */
  readonly greenMajor?: number;
}

async function countOnServing(url: string, ids: ReadonlyArray<number>): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM orders WHERE id = ANY($1::bigint[])', [ids]);
    return Number(rows[0].n);
  } finally {
    await client.end();
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

type WriteLoad = ReturnType<typeof startWriteLoad>;

/** What every stage of the demo works with: the sandbox, the tool's deps on it, and the narration. */
interface DemoRun {
  readonly mode: 'replicate' | 'freeze';
  readonly sandbox: Sandbox;
  readonly deps: Deps;
  readonly say: (text: string) => void;
  readonly heading: (text: string) => void;
}

/** A step of the demo that did not do what the demo shows: the demo stops there. */
function demoFailed(what: string, error?: { message: string }): never {
  throw new Error(`the demo's ${what} failed: ${error?.message ?? 'unknown error'}`);
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const say = options.print;
  const mode = options.mode ?? 'replicate';
  const heading = (text: string) => say(`\n━━ ${text} ${'━'.repeat(Math.max(0, 70 - text.length))}`);
  introduce(say, mode);

  heading('1. Sandbox');
  const sandbox = await startSandbox({ fast: true, greenMajor: options.greenMajor });
  let keep = false;
  try {
    await describeSandbox(say, sandbox, options.scale ?? 1);
    const files = writeDemoConfig(sandbox, mode);
    const deps = createDeps(
      files.config,
      lineProgress((line) => say(`   ${line}`)),
    );
    const run: DemoRun = { mode, sandbox, deps, say, heading };

    heading('2. The app starts writing through PgBouncer (about 100 orders a second)');
    let load = startWriteLoad(sandbox.appUrl, 100, 2);
    await pause(500);
    await prepareGreen(run);
    await switchOver(run);
    load = await rollBack(run, load);
    await switchOverAgain(run, load);

    heading('Done');
    keep = !!options.keep;
    if (keep) tryByHand(run, files);
    else say('Stopping the sandbox (run `bluegreen demo --keep` to leave it up and try the commands yourself).');
  } finally {
    if (!keep) await sandbox.stop();
  }
}

function introduce(say: (text: string) => void, mode: 'replicate' | 'freeze'): void {
  say(`pg-bluegreen demo: a ${mode}-mode cutover of a trading app from v2.5 to v2.6 on a local sandbox.`);
  say('Blue is the live database, green its new copy; PgBouncer sits in front, and an app writes orders through it the whole time.');
  say(
    mode === 'replicate'
      ? 'Replicate mode: blue keeps taking writes while green is cloned and kept in sync; ' +
          'the switch pauses writes for milliseconds; nothing is lost, in either direction.'
      : 'Freeze mode: blue refuses writes from the clone until the switchover; any migration is allowed.',
  );
}

async function describeSandbox(say: (text: string) => void, sandbox: Sandbox, scale: number): Promise<void> {
  const { blue, green } = sandbox;
  say(`blue   PostgreSQL ${blue.major} on 127.0.0.1:${blue.port}`);
  const upgrade = green.major !== blue.major ? `: a major upgrade ${blue.major} → ${green.major}` : '';
  say(`green  PostgreSQL ${green.major} on 127.0.0.1:${green.port} (empty)${upgrade}`);
  say(`pgbouncer on 127.0.0.1:${sandbox.pgbouncer.port}, database "app" → blue`);
  say(`files in ${sandbox.dir}`);
  await seedTradingApp(sandbox.blueUrl, scale, sandbox.appUser);
  say(`seeded the v2.5 schema: users, accounts, positions, orders, trades, api_keys (~${Math.round(100 * scale)}k rows)`);
}

/** The config an operator would write for this sandbox, and the environment file its secrets live in. */
function writeDemoConfig(sandbox: Sandbox, mode: 'replicate' | 'freeze'): { config: Config; configFile: string; envFile: string } {
  // Secrets stay out of the config (and out of this output): it names environment variables.
  const env = {
    BLUEGREEN_DEMO_PG_PASSWORD: sandbox.blue.password,
    BLUEGREEN_DEMO_GREEN_PASSWORD: sandbox.green.password,
    BLUEGREEN_DEMO_PGB_PASSWORD: sandbox.pgbouncer.adminPassword,
  };
  const configJson = {
    blue: `postgres://postgres:\${BLUEGREEN_DEMO_PG_PASSWORD}@127.0.0.1:${sandbox.blue.port}/app`,
    green: `postgres://postgres:\${BLUEGREEN_DEMO_GREEN_PASSWORD}@127.0.0.1:${sandbox.green.port}/app`,
    mode,
    migrations: { dir: DEMO_MIGRATIONS },
    pointer: {
      type: 'pgbouncer',
      admin: `postgres://pgbadmin:\${BLUEGREEN_DEMO_PGB_PASSWORD}@127.0.0.1:${sandbox.pgbouncer.port}/pgbouncer`,
      ini: sandbox.pgbouncer.ini,
      database: 'app',
    },
    rollbackWindow: '24h',
    switchover: { timeoutMs: 30000 },
    stateDir: path.join(sandbox.dir, 'state'),
  };
  const { configFile, envFile } = writeDemoFiles(sandbox.dir, configJson, env);
  return { config: parseConfig(JSON.stringify(configJson), configFile, env), configFile, envFile };
}

/** Preflight, clone, migrate and compare, as an operator runs them before a switchover. */
async function prepareGreen({ mode, deps, say, heading }: DemoRun): Promise<void> {
  heading('3. Preflight: is everything in place? (bluegreen preflight)');
  say(renderFindings((await _preflight(deps)).findings));

  heading('4. Clone blue to green (bluegreen clone)');
  say(
    mode === 'replicate'
      ? 'Blue keeps taking writes: a replication slot exports the snapshot pg_dump reads, ' +
          'and green then applies every later write exactly once.'
      : 'Freeze mode: blue refuses writes from now until the switchover; reads go on.',
  );
  const clone = await _clone(deps);
  if (!clone.ok) demoFailed('clone', clone.error);
  say(`backup kept and checked readable: ${clone.dump?.path}`);

  heading('5. Migrate green to v2.6 (bluegreen migrate)');
  say('Blue is never touched: leverage on positions, scopes on api_keys, an index on trades, a price_alerts table.');
  if (mode === 'replicate') say('Replicate mode lints them first: expand-only changes pass, a drop or rename would be refused by name.');
  await migrated(deps);

  heading('6. Compare blue and green (bluegreen compare)');
  say(renderCompare(await _compare(deps)));
}

async function switchOver({ mode, deps, say, heading }: DemoRun): Promise<void> {
  heading('7. Switch over (bluegreen switchover)');
  const switchover = await _switchover(deps);
  if (!switchover.ok) demoFailed('switchover', switchover.error);
  say(renderSteps(switchover.steps));
  say(`\nwrite pause (PgBouncer PAUSE → RESUME): ${switchover.writePauseMs} ms`);
  if (mode === 'freeze') say(`writes refused in all (freeze from clone to switchover): ${formatDuration(switchover.writesFrozenMs ?? 0)}`);
  await pause(1000);

  heading('8. Status (bluegreen status)');
  say(renderStatus(await _status(deps), Date.now()));
}

/** Back to blue; returns the write load running afterwards (freeze mode stops it to count, then starts another). */
async function rollBack(run: DemoRun, load: WriteLoad): Promise<WriteLoad> {
  const { mode, deps, say, heading } = run;
  heading('9. Roll back to blue (bluegreen rollback)');
  if (mode === 'replicate') {
    say('Green has taken writes since the switchover; blue has them too (reverse replication), so rollback loses nothing:');
    const rollback = await _rollback(deps);
    if (!rollback.ok) demoFailed('rollback', rollback.error);
    say(renderSteps(rollback.steps));
    say(`\nwrite pause: ${rollback.writePauseMs} ms; blue serves again, and green follows it`);
  } else load = await rollBackLosingWrites(run, load);
  await pause(1000);
  return load;
}

/** Freeze mode: the rollback refuses, then discards green's writes once accepted, exactly as many as it counted. */
async function rollBackLosingWrites({ sandbox, deps, say }: DemoRun, load: WriteLoad): Promise<WriteLoad> {
  // The writer stops first, so what the rollback discards can be checked exactly against what it counted.
  const before = await load.stop();
  say('Green has taken writes since the switchover; in freeze mode blue has no copy of them, so rollback refuses first:');
  const refused = await _rollback(deps);
  say(`  ✖ ${refused.error?.message.split('\n  undo')[0]}\n  ${refused.error?.hint}`);
  say('\nAn operator who accepts that loss says so (bluegreen rollback --accept-data-loss):');
  const rollback = await _rollback(deps, { acceptDataLoss: true });
  if (!rollback.ok) demoFailed('rollback', rollback.error);
  say(renderSteps(rollback.steps));
  say(`\nwrite pause: ${rollback.writePauseMs} ms; blue serves and takes writes again`);
  const discarded = before.acknowledged.length - (await countOnServing(sandbox.blueUrl, before.acknowledged));
  const counted = refused.lostWrites?.find((w) => w.table === 'public.orders')?.written ?? 0;
  const mismatch = discarded === counted ? '' : ' — MISMATCH';
  say(`accepted writes discarded with green's data: ${discarded}, as the rollback counted (${counted})${mismatch}`);
  if (discarded !== counted) demoFailed('count of discarded writes');
  say(`the app before the rollback: ${before.acknowledged.length} writes accepted, ${before.refused} refused while blue was frozen`);
  return startWriteLoad(sandbox.appUrl, 100, 2);
}

/** The second switchover, then what the app saw: every accepted write is on green. */
async function switchOverAgain({ mode, sandbox, deps, say, heading }: DemoRun, load: WriteLoad): Promise<void> {
  heading('10. A second switchover');
  if (mode === 'freeze') {
    say("After a freeze-mode rollback green missed blue's new writes, so it is cloned anew (the tool re-creates the database it made).");
    say('Green still holds the writes the rollback gave up: re-creating it needs clone --accept-data-loss, which is recorded.');
    const clone = await _clone(deps, { acceptDataLoss: true });
    if (!clone.ok) demoFailed('second clone', clone.error);
    await migrated(deps);
  }
  const again = await _switchover(deps);
  if (!again.ok) demoFailed('second switchover', again.error);
  say(`write pause: ${again.writePauseMs} ms`);
  await pause(500);
  const writes = await load.stop();
  const kept = await countOnServing(sandbox.greenUrl, writes.acknowledged);
  say('');
  say(renderStatus(await _status(deps), Date.now()));

  heading(mode === 'replicate' ? 'What the app saw, from the first write to the last' : 'What the app saw since the rollback');
  const example = writes.firstRefusal ? ` (e.g. "${writes.firstRefusal}")` : '';
  say(`writes accepted: ${writes.acknowledged.length}; refused: ${writes.refused}${example}`);
  say(`longest wait for one write: ${writes.maxLatencyMs} ms; its connection to PgBouncer never dropped`);
  const verdict = kept === writes.acknowledged.length ? ' — none lost' : ' — SOME MISSING';
  say(`accepted writes on green, which serves now: ${kept} of ${writes.acknowledged.length}${verdict}`);
  if (kept !== writes.acknowledged.length) demoFailed('check that no write was lost');
}

/** `--keep`: how to drive the sandbox by hand. */
function tryByHand({ sandbox, say }: DemoRun, files: { configFile: string; envFile: string }): void {
  say('The sandbox keeps running. Try every command by hand:');
  say(`  set -a; . ${files.envFile}; set +a`);
  say(`  bluegreen status --config ${files.configFile}`);
  say(`  bluegreen rollback --config ${files.configFile} --dry-run`);
  const userlist = path.join(sandbox.pgbouncer.dir, 'userlist.txt');
  say(`  psql "postgres://app@127.0.0.1:${sandbox.pgbouncer.port}/app"   (the app's password is in ${userlist})`);
  say(`Stop it with: bluegreen demo --stop ${sandbox.dir}`);
}

export async function stopDemo(dir: string): Promise<void> {
  await stopSandboxDir(dir);
}
