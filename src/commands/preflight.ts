/** `bluegreen preflight`: every check before anything is created, each ok | warn | block with its fix. */
import { statfsSync, existsSync } from 'node:fs';
import path from 'node:path';
import { withDatabase } from '../core/conninfo.js';
import { BlockedError } from '../core/errors.js';
import { type BlueFacts, type Finding, type GreenFacts, preflightFindings, type PreflightFacts } from '../core/preflight-rules.js';
import type { CutoverState } from '../core/state.js';
import { listTables } from '../adapters/catalog/tables.js';
import { findTool } from '../adapters/pg-binaries.js';
import {
  availableExtensions,
  availableVersions,
  collationVersions,
  databaseExists,
  loginRoles,
  readCollation,
  readReplicationCapacity,
  readServerFacts,
} from '../adapters/database.js';
import { readBlueFacts } from '../adapters/blue-facts.js';
import { pauseBlockers } from '../adapters/sessions.js';
import { canWriteDir } from '../adapters/state-store.js';
import { withClient } from '../adapters/pg.js';
import { sideServedBy, targetOf } from '../adapters/pointer.js';
import { assertMigrationsReplicable, readMigrationPlan } from './migrate.js';
import { conn, type Deps, loadState } from './context.js';
import { readPrivilegePlan } from './privilege-facts.js';

/** Whether the last cutover left green's database ours to drop and re-create (blue serving, green filled by us). */
export function greenResettable(state: CutoverState, acceptDataLoss = false): boolean {
  const ended = state.phase === 'aborted' || state.phase === 'rolled-back';
  return state.greenDatabaseCreated && state.serving === 'blue' && ended && (acceptDataLoss || !givenUpOnGreen(state));
}

/** clone --accept-data-loss re-creating a green that held what a rollback gave up: in the audit log. */
export async function recordGreenReCreated(deps: Deps, previous: CutoverState): Promise<void> {
  const givenUp = givenUpOnGreen(previous);
  if (!givenUp) return;
  const at = deps.clock.now().toISOString();
  const detail = `green re-created: ${givenUp}`;
  await deps.store.audit({ at, by: deps.who, command: 'clone', cutover: previous.id, outcome: 'data-loss-accepted', detail });
}

/** The last rollback gave up writes green took (accepted): green holds their only copy, so clone never drops it. */
export function givenUpOnGreen(state: CutoverState): string | undefined {
  const last = state.flips.at(-1);
  if (!last || last.kind !== 'rollback' || !last.ok || !last.acceptedLosses?.length) return undefined;
  return (
    `It holds the only copy of what the rollback at ${last.at} gave up (${last.acceptedLosses.map((l) => l.object).join(', ')}): ` +
    'export what you need from it, then run `bluegreen clone --accept-data-loss` to re-create green anyway (recorded).'
  );
}

/** A reading, or why it failed (its first line): a fact either way. */
async function capture<T extends object>(fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0] };
  }
}

/** Green's server, its database (whether it exists and holds tables) and what it offers blue's schema. */
async function readGreenFacts(deps: Deps, database: string, blue: BlueFacts | { error: string }) {
  const { config } = deps;
  return capture(() =>
    withClient(
      withDatabase(config.green, 'postgres'),
      async (client) => {
        const exists = await databaseExists(client, database);
        const userTables = exists
          ? await withClient(config.green, async (g) => (await listTables(g)).length, conn(deps, 'green', 'preflight'))
          : 0;
        return {
          ...(await readServerFacts(client)),
          ...(await readReplicationCapacity(client)),
          databaseExists: exists,
          userTables,
          availableExtensions: await availableExtensions(client),
          availableVersions: await availableVersions(client),
          collation: await readCollation(client),
          collationVersions: await collationVersions(client, 'error' in blue ? [] : (blue.collationsInUse ?? []).map((c) => c.name)),
          loginRoles: await loginRoles(client),
        };
      },
      { ...conn(deps, 'green', 'preflight'), connectTimeoutMs: 5000 },
    ),
  );
}

/** A pg_dump at least as new as blue. */
function readTools(deps: Deps, blue: BlueFacts | { error: string }): PreflightFacts['tools'] {
  try {
    const major = 'error' in blue ? undefined : blue.major;
    return { pgDump: major === undefined ? undefined : findTool('pg_dump', major, deps.config.binDir) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** What the pointer serves, its settings' warnings and its pool modes. */
async function readPointerFacts(deps: Deps): Promise<PreflightFacts['pointer']> {
  const { config } = deps;
  const pointer: PreflightFacts['pointer'] = { description: deps.pointer.description };
  try {
    const warnings = await deps.pointer.check();
    const current = await deps.pointer.current();
    return {
      ...pointer,
      warnings,
      poolModes: await deps.pointer.poolModes(),
      database: config.pointer.type === 'pgbouncer' ? config.pointer.database : undefined,
      pointsAt: sideServedBy(config, current) ?? 'elsewhere',
    };
  } catch (error) {
    return { ...pointer, error: (error as Error).message.split('\n')[0] };
  }
}

/** Free bytes on the disk the dump folder is (or will be) on. */
function dumpDirFreeBytes(dumpDir: string): number | undefined {
  let dir = dumpDir;
  while (!existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  try {
    const fs = statfsSync(dir);
    return Number(fs.bavail) * Number(fs.bsize);
  } catch {
    return undefined;
  }
}

/** A peer address that differs from the controller's is tried too; from here it may not be reachable at all. */
async function readPeers(deps: Deps): Promise<Partial<Record<'blue' | 'green', string>>> {
  const { config } = deps;
  const peers: Partial<Record<'blue' | 'green', string>> = {};
  if (config.mode !== 'replicate') return peers;
  for (const side of ['blue', 'green'] as const) {
    const peer = config.addresses[side].peer;
    if (peer === config[side]) continue;
    peers[side] = await withClient(side === 'green' ? withDatabase(peer, 'postgres') : peer, async () => '', {
      ...conn(deps, side, 'preflight'),
      connectTimeoutMs: 5000,
    }).catch((error: Error) => error.message.split('\n')[0]);
  }
  return peers;
}

/** How many migrations wait for green, and (replicate mode) whether each is safe to run while replicating. */
async function readMigrations(deps: Deps): Promise<PreflightFacts['migrations']> {
  const { config } = deps;
  if (!config.migrations || !('dir' in config.migrations)) return {};
  try {
    const plan = await readMigrationPlan(config.migrations.dir, []);
    if (config.mode === 'replicate') await assertMigrationsReplicable(plan.pending);
    return { pending: plan.pending.length };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Reads every fact preflight needs; unreachable parts become findings, not exceptions. */
export async function gatherFacts(deps: Deps, state: CutoverState, acceptDataLoss = false): Promise<PreflightFacts> {
  const { config } = deps;
  const database = targetOf(config.green).database;
  const blue = await capture(() => withClient(config.blue, readBlueFacts, { ...conn(deps, 'blue', 'preflight'), connectTimeoutMs: 5000 }));
  const green = await readGreenFacts(deps, database, blue);
  const tools = readTools(deps, blue);
  const pointer = await readPointerFacts(deps);
  const minAgeMs = config.switchover.blockers.minAgeMs;
  const blockers = await capture(() =>
    withClient(config.blue, (c) => pauseBlockers(c, minAgeMs), { ...conn(deps, 'blue', 'preflight'), connectTimeoutMs: 5000 }).then(
      (sessions) => ({ sessions }),
    ),
  );
  const pauseBlockersFact = { minAgeMs, ...blockers };
  const freeBytes = dumpDirFreeBytes(config.dumpDir);
  const peers = await readPeers(deps);
  const migrations = await readMigrations(deps);
  const privileges = await readPrivilegePlan(deps, blue as BlueFacts, green as GreenFacts);
  return {
    privileges,
    dumpDirProblem: canWriteDir(config.dumpDir),
    peers,
    mode: config.mode,
    database,
    blue,
    green,
    greenResettable: greenResettable(state, acceptDataLoss),
    greenHoldsGivenUp: acceptDataLoss ? undefined : givenUpOnGreen(state),
    ...(['idle', 'aborted', 'finalized'].includes(state.phase) ? {} : { cutoverUnderWay: { phase: state.phase, id: state.id } }),
    tools,
    pointer,
    pauseBlockers: pauseBlockersFact,
    dumpDirFreeBytes: freeBytes,
    streaming: config.clone.backup === 'none',
    dumpDir: config.dumpDir,
    migrations,
    unloggedCopyMaxRows: config.switchover.unloggedCopyMaxRows,
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
  await deps.store.audit({
    at: deps.clock.now().toISOString(),
    by: deps.who,
    command: 'preflight',
    cutover: state.id,
    outcome: blocks ? 'blocked' : 'ok',
  });
  if (!blocks) return { ok: true, findings };
  return {
    ok: false,
    findings,
    error: {
      code: 'blocked',
      exitCode: 3,
      message: `preflight found ${blocks} blocking problem${blocks > 1 ? 's' : ''}`,
      hint: 'Fix each ✖ above, then run `bluegreen preflight` again. Nothing was changed.',
    },
  };
}

/** The findings of `facts`, refused (exit 3) when one blocks: clone's own preflight. */
export function assertFactsNotBlocked(facts: PreflightFacts): void {
  assertNotBlocked(preflightFindings(facts));
}

/** Throws BlockedError (exit 3) naming each blocking finding; used before clone. */
export function assertNotBlocked(findings: ReadonlyArray<Finding>): void {
  const blocks = findings.filter((f) => f.status === 'block');
  if (blocks.length === 0) return;
  throw new BlockedError(
    `preflight found ${blocks.length} blocking problem${blocks.length > 1 ? 's' : ''}:\n` +
      blocks.map((b) => `  ✖ ${b.message}${b.fix ? `\n    fix: ${b.fix}` : ''}`).join('\n'),
    {
      hint: 'Fix them and run `bluegreen preflight` again; nothing was changed.',
    },
  );
}
