/**
 * What the clone's operations share: the ports (deps, the state record) and the live resources that
 * cannot be a recorded output (the replication connection holding the exported snapshot, the post-data
 * work running beside the stream, green's sessions for the foreign keys), each let go by `settle`.
 */
import path from 'node:path';
import { targetOf } from '../../adapters/pointer.js';
import { type Client, withClient } from '../../adapters/pg.js';
import { type createSlotWithSnapshot, replicationNames } from '../../adapters/replication.js';
import type { sessionPool } from '../../adapters/stream-copy.js';
import type { CutoverState, ReplicationLink } from '../../core/state.js';
import { conn, type Deps } from '../../commands/context.js';
import type { PostDataRunner } from '../../commands/post-data-runner.js';
import type { Done } from '../operation.js';

/** The cutover's record: read it, and save changes as the steps make them (status reads them). */
export interface CloneRecord {
  state(): CutoverState;
  update(changes: Partial<CutoverState>): Promise<void>;
}

/** Live resources, never recorded: a killed controller takes them with it. */
export interface CloneLive {
  /** The replication connection that created the slot: its snapshot lives until it closes. */
  replication?: Awaited<ReturnType<typeof createSlotWithSnapshot>>;
  /** The streaming clone's post-data work, from the first table whose rows are in to the last foreign key. */
  postData?: PostDataRunner;
  /** Sessions on green for the foreign keys: one more than the checks at a time, so an add never waits behind a check. */
  keySessions?: ReturnType<typeof sessionPool>;
}

/** Sessions on each side, opened for one piece of work and closed after it (a port: a fake in a unit test is a few lines). */
export interface CloneSessions {
  blue<T>(fn: (c: Client) => Promise<T>): Promise<T>;
  green<T>(fn: (c: Client) => Promise<T>, url?: string): Promise<T>;
}

export interface CloneCtx {
  readonly deps: Deps;
  readonly sessions: CloneSessions;
  readonly record: CloneRecord;
  /** Parallel jobs for pg_dump, pg_restore and the streams. */
  readonly jobs: number;
  /** clone.backup "none": the rows stream from blue's snapshot straight into green. */
  readonly streaming: boolean;
  /** Green's database may be re-created (it holds nothing a rollback gave up, or the operator accepted the loss). */
  readonly resetGreen: boolean;
  /** Green's database name. */
  readonly database: string;
  /** Where this cutover's dump (or schema dump) goes. */
  readonly dumpPath: string;
  readonly live: CloneLive;
}

export function cloneContext(
  deps: Deps,
  record: CloneRecord,
  options: { readonly jobs?: number; readonly resetGreen?: boolean; readonly sessions?: CloneSessions } = {},
): CloneCtx {
  const { config } = deps;
  return {
    deps,
    sessions: options.sessions ?? {
      blue: (fn) => withClient(config.blue, fn, conn(deps, 'blue', 'clone')),
      green: (fn, url = config.green) => withClient(url, fn, conn(deps, 'green', 'clone')),
    },
    record,
    jobs: options.jobs ?? 2,
    streaming: config.clone.backup === 'none',
    resetGreen: options.resetGreen ?? false,
    database: targetOf(config.green).database,
    dumpPath: path.join(config.dumpDir, record.state().id),
    live: {},
  };
}

/** Closes the replication connection: the snapshot ends, the slot stays. */
export async function release(live: CloneLive): Promise<void> {
  const replication = live.replication;
  live.replication = undefined;
  await replication?.close();
}

/** Waits for post-data work still running (so nothing of ours holds green), then lets every live resource go. */
export async function settle(live: CloneLive): Promise<void> {
  await live.postData?.stop();
  await live.keySessions?.close();
  await release(live);
}

export function onBlue<T>(ctx: CloneCtx, fn: (c: Client) => Promise<T>): Promise<T> {
  return ctx.sessions.blue(fn);
}

export function onGreen<T>(ctx: CloneCtx, fn: (c: Client) => Promise<T>, url?: string): Promise<T> {
  return ctx.sessions.green(fn, url);
}

/** What every pg_dump / pg_restore / pg_dumpall run of the clone shares: the binaries for blue's major and the secrets to redact. */
export function toolOn(ctx: CloneCtx, url: string, blueMajor: number) {
  return { url, serverMajor: blueMajor, binDir: ctx.deps.config.binDir, secrets: ctx.deps.config.secrets };
}

/** Blue's facts the copy steps need, from freeze-blue's output. */
export interface BlueFacts {
  readonly blueMajor: number;
  readonly tableCount: number;
}

/** The snapshot the copy reads (the slot's, in replicate mode), from create-slot's output. */
export interface SnapshotInput {
  readonly snapshot?: string;
}

/** A step with nothing to pass on: its line for the operator, or why it had nothing to do. */
export function noted(outcome: string | { readonly skipped: string }): Done<void> {
  return typeof outcome === 'string' ? { output: undefined, detail: outcome } : { skipped: outcome.skipped };
}

/** The forward link's names: as recorded, else the cutover's (they are made from its id), for an undo without the step's output. */
export function forwardNames(ctx: CloneCtx): ReplicationLink {
  const state = ctx.record.state();
  return state.forward ?? replicationNames(state.id, 'fwd');
}
