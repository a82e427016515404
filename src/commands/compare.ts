/**
 * `bluegreen compare`: content verification of every table on both sides (typed row hashes over key
 * ranges, the differing rows named by key), a schema diff that tells the migrations' changes from
 * unexpected ones, and integrity checks on green. Exact under live replication: a difference still
 * in flight is never reported.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_DRILL } from '../core/content-diff.js';
import { type CompareResult, verdict } from '../core/compare-model.js';
import { displayName, splitQualified } from '../core/quote.js';
import { columnOrderDifferences, diffSchemas, type SchemaDiff, type SchemaSnapshot, withoutKeys } from '../core/schema-diff.js';
import type { CutoverState, Side } from '../core/state.js';
import { readSchema } from '../adapters/catalog/schema-snapshot.js';
import { listTables } from '../adapters/catalog/tables.js';
import { countRowsWrittenSince, currentXid } from '../adapters/catalog/written-rows.js';
import { columnOrders, derivedObjectKeys } from '../adapters/compare-facts.js';
import { ddlSince, hasDdlLog } from '../adapters/ddl-log.js';
import { compareLargeObjects } from './compare-large-objects.js';
import { changesSinceSwitchover, withoutChangeCounters } from '../adapters/change-counter.js';
import { ensurePrivateDir, writeFileAtomic } from '../adapters/state-store.js';
import { type Client, withClient } from '../adapters/pg.js';
import { beatHeartbeat, waitForHeartbeat } from '../adapters/heartbeat.js';
import { schemaFile } from '../adapters/state-store.js';
import { compareMaterializedViews, type CompareSides, compareTables, type TablesToCompare } from './compare-content.js';
import { integrityOnGreen } from './compare-integrity.js';
import { conn, type Deps, loadState } from './context.js';

/** Where the last clean compare is recorded (the serving side's xid when it began), for switchover.verify. */
export function lastCompareFile(stateDir: string): string {
  return path.join(stateDir, 'last-compare.json');
}

/** Where the last compare's whole result is kept, for the report. */
export function lastCompareResultFile(stateDir: string, cutoverId: string): string {
  return path.join(stateDir, `${cutoverId}.compare-last.json`);
}

/** The last clean compare, if one is recorded. */
export function readLastCompare(stateDir: string): { cutover: string; side: Side; xid: string; at: string } | undefined {
  const file = lastCompareFile(stateDir);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

export interface CompareOptions {
  /** Report at most this many differing keys per table. */
  readonly maxDifferences?: number;
}

/** Both schemas, their diff, and the tables each side has with what makes a difference in them expected. */
async function readSchemas(deps: Deps, state: CutoverState, clients: Readonly<Record<Side, Client>>) {
  const { config, progress } = deps;
  const recorded = (when: 'at-clone' | 'after-migrations'): SchemaSnapshot | undefined => {
    const file = schemaFile(config.stateDir, state.id, when);
    return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  };
  const greenAtClone = recorded('at-clone');
  const greenAfterMigrations = recorded('after-migrations') ?? greenAtClone;
  progress.start('Reading schemas');
  const schemaStart = performance.now();
  const [blueSchema, greenSchema] = await Promise.all([readSchema(clients.blue), readSchema(clients.green).then(withoutChangeCounters)]);
  // Objects PostgreSQL derives from a parent's, named by it in whatever order they were made, are
  // left out on both sides (a name derived on either): their parents are compared.
  const derived = new Set([...(await derivedObjectKeys(clients.blue)), ...(await derivedObjectKeys(clients.green))]);
  // Blue's DDL log since the clone is the only witness that lets compare say "DDL on blue".
  const cloneStarted = state.history.find((h) => h.event === 'clone-started')?.at ?? state.createdAt;
  const blueDdl = (await hasDdlLog(clients.blue)) ? await ddlSince(clients.blue, cloneStarted, 100_000) : undefined;
  const schema: SchemaDiff = {
    ...diffSchemas(
      withoutKeys(blueSchema, derived),
      withoutKeys(greenSchema, derived),
      greenAtClone && withoutKeys(greenAtClone, derived),
      greenAfterMigrations && withoutKeys(greenAfterMigrations, derived),
      blueDdl,
    ),
    // A warning, never a failure: the rows are the same, what SELECT * returns is not.
    columnOrder: columnOrderDifferences(await columnOrders(clients.blue), await columnOrders(clients.green)),
  };
  const schemaMs = Math.round(performance.now() - schemaStart);

  // Freeze mode after a switchover: blue is frozen and green takes writes, so those tables differ by design.
  const writtenOnGreen =
    config.mode === 'freeze' && state.serving === 'green' && state.greenXidAtSwitchover
      ? new Set(
          ((await changesSinceSwitchover(clients.green)) ?? (await countRowsWrittenSince(clients.green, state.greenXidAtSwitchover))).map(
            (w) => w.table,
          ),
        )
      : new Set<string>();
  const tablesToCompare: TablesToCompare = {
    blue: new Map((await listTables(clients.blue)).map((t) => [t.display, t])),
    green: new Map((await listTables(clients.green)).map((t) => [t.display, t])),
    writtenOnGreen,
    createdByMigrations: new Set(
      schema.expected
        .filter((d) => d.kind === 'only-on-green' && d.object.startsWith('table '))
        .map((d) => displayName(...splitQualified(d.object.slice('table '.length)))),
    ),
  };
  progress.succeed('Schemas read');
  return { blueSchema, greenSchema, schema, schemaMs, tablesToCompare };
}

/**
 * Records the result: the last clean compare (the baseline switchover.verify checks against: what was
 * written after it), the last compare's whole result (part of the cutover's report), and the audit line.
 */
async function recordCompare(deps: Deps, state: CutoverState, result: CompareResult, verified: { side: Side; xid: string }) {
  const { config } = deps;
  if (result.ok && !result.tables.some((t) => t.status === 'in-flight')) {
    ensurePrivateDir(config.stateDir);
    writeFileAtomic(
      lastCompareFile(config.stateDir),
      JSON.stringify({ cutover: state.id, at: deps.clock.now().toISOString(), side: verified.side, xid: verified.xid }),
    );
  }
  ensurePrivateDir(config.stateDir);
  writeFileAtomic(lastCompareResultFile(config.stateDir, state.id), JSON.stringify({ at: deps.clock.now().toISOString(), ...result }));
  await deps.store.audit({
    at: deps.clock.now().toISOString(),
    by: deps.who,
    command: 'compare',
    cutover: state.id,
    outcome: result.ok ? 'ok' : 'failed',
  });
}

export async function _compare(deps: Deps, options: CompareOptions = {}): Promise<CompareResult> {
  const { config, progress } = deps;
  const state = await loadState(deps);
  const start = performance.now();
  const maxDifferences = options.maxDifferences ?? DEFAULT_DRILL.maxDifferences;
  // The side that serves is the one writes land on: it publishes, the other follows (when something replicates).
  const publisherSide: Side = state.serving;
  const subscriberSide: Side = publisherSide === 'blue' ? 'green' : 'blue';
  const link = publisherSide === 'green' ? state.reverse : state.forward;
  const url = (side: Side) => (side === 'blue' ? config.blue : config.green);

  const compareBoth = async (publisher: Client, subscriber: Client): Promise<CompareResult> => {
    const c: CompareSides = {
      publisher,
      subscriber,
      publisherSide,
      subscriberSide,
      clients: { [publisherSide]: publisher, [subscriberSide]: subscriber } as Record<Side, Client>,
      drain: link
        ? async () =>
            void (await waitForHeartbeat(subscriber, await beatHeartbeat(publisher), performance.now() + 30_000, 'replication catch-up'))
        : undefined,
    };
    const read = await readSchemas(deps, state, c.clients);
    // Taken before the content is read: every row written after it has a younger xmin.
    const verifiedXid = await currentXid(publisher);
    const contentStart = performance.now();
    const content = await compareTables(c, read.tablesToCompare, progress, maxDifferences);
    const lastRefresh = state.flips.filter((f) => f.ok).at(-1)?.at ?? state.history.find((h) => h.event === 'clone-finished')?.at;
    const views = await compareMaterializedViews(c, lastRefresh);
    const tables = [...content.tables, ...views.views];
    // Large objects: not replicated, compared on their own (count and content), named by oid.
    const largeObjects = await compareLargeObjects(c.clients.blue, c.clients.green, {
      writtenOnGreenByDesign: config.mode === 'freeze' && state.serving === 'green',
      maxDifferences,
    });
    if (largeObjects) tables.push(largeObjects);
    const contentMs = Math.round(performance.now() - contentStart);

    progress.start('Checking integrity on green');
    const integrityStart = performance.now();
    const { integrity, schema } = await integrityOnGreen(c.clients, {
      ...read,
      tables,
      sequencesMayLag: config.mode === 'replicate' && state.serving === 'blue',
    });
    const integrityMs = Math.round(performance.now() - integrityStart);
    progress.succeed(`Integrity on green: ${integrity.length} finding${integrity.length === 1 ? '' : 's'} (${integrityMs} ms)`);
    const ok = verdict(tables, schema, integrity);
    const ms = Math.round(performance.now() - start);
    const phasesMs = { content: contentMs, schema: read.schemaMs, integrity: integrityMs };
    const rowsCompared = content.rowsCompared + views.rowsCompared;
    const result = { ok, tables, schema, integrity, ms, rowsCompared, bytesCompared: content.bytesCompared, phasesMs };
    await recordCompare(deps, state, result, { side: publisherSide, xid: verifiedXid });
    return result;
  };

  return withClient(
    url(publisherSide),
    (publisher) =>
      withClient(url(subscriberSide), (subscriber) => compareBoth(publisher, subscriber), conn(deps, subscriberSide, 'compare')),
    conn(deps, publisherSide, 'compare'),
  );
}
