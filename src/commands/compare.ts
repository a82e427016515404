/**
 * `bluegreen compare`: content verification of every table on both sides (typed row hashes over key
 * ranges, the differing rows named by key), a schema diff that tells the migrations' changes from
 * unexpected ones, and integrity checks on green. Exact under live replication: a difference still
 * in flight is never reported.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_DRILL, drillTable, multisetVerdict, type RowDifference } from '../core/content-diff.js';
import {
  type CompareResult,
  type IntegrityFinding,
  invalidIndexesOnlyOnBlue,
  type TableComparison,
  verdict,
  weighAgainstBlue,
} from '../core/compare-model.js';
import { displayName, quoteQualified, splitQualified } from '../core/quote.js';
import { columnOrderDifferences, diffSchemas, type SchemaDiff, type SchemaSnapshot, withoutKeys } from '../core/schema-diff.js';
import type { Side } from '../core/state.js';
import { indexesOnCollation } from '../adapters/catalog/collation-indexes.js';
import { checkIntegrity, type ForeignKeyRef } from '../adapters/catalog/integrity.js';
import { materializedViews } from '../adapters/catalog/materialized-views.js';
import { readSchema } from '../adapters/catalog/schema-snapshot.js';
import { listTables, type TableRef } from '../adapters/catalog/tables.js';
import { countRowsWrittenSince, currentXid } from '../adapters/catalog/written-rows.js';
import { blueIntegrityBeside, columnOrders, derivedObjectKeys } from '../adapters/compare-facts.js';
import { ddlSince, hasDdlLog } from '../adapters/ddl-log.js';
import { compareLargeObjects } from './compare-large-objects.js';
import { changesSinceSwitchover, withoutChangeCounters } from '../adapters/change-counter.js';
import { collationsInUse, collationVersions, readCollation } from '../adapters/database.js';
import { collationDrift } from '../core/preflight-rules.js';
import { buildTableSpec, multisetWindow, type Sides, tableReader } from '../adapters/content.js';
import { ensurePrivateDir, writeFileAtomic } from '../adapters/state-store.js';
import { type Client, queryOne, withClient } from '../adapters/pg.js';
import { beatHeartbeat, waitForHeartbeat } from '../adapters/heartbeat.js';
import { schemaFile } from '../adapters/state-store.js';
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

async function tableBytes(client: Client, t: TableRef): Promise<number> {
  const row = await queryOne<{ b: string }>(client, 'SELECT pg_table_size($1::regclass)::text AS b', [quoteQualified(t.schema, t.name)]);
  return Number(row?.b ?? 0);
}

async function countAll(client: Client, t: TableRef): Promise<number> {
  return Number((await queryOne<{ n: string }>(client, `SELECT count(*)::text AS n FROM ${quoteQualified(t.schema, t.name)}`))!.n);
}

export async function _compare(deps: Deps, options: CompareOptions = {}): Promise<CompareResult> {
  const { config, progress } = deps;
  const state = await loadState(deps);
  const start = performance.now();
  const recorded = (when: 'at-clone' | 'after-migrations'): SchemaSnapshot | undefined => {
    const file = schemaFile(config.stateDir, state.id, when);
    return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  };
  const greenAtClone = recorded('at-clone');
  const greenAfterMigrations = recorded('after-migrations') ?? greenAtClone;
  // The side that serves is the one writes land on: it publishes, the other follows (when something replicates).
  const publisherSide: Side = state.serving;
  const subscriberSide: Side = publisherSide === 'blue' ? 'green' : 'blue';
  const link = publisherSide === 'green' ? state.reverse : state.forward;
  const url = (side: Side) => (side === 'blue' ? config.blue : config.green);

  return withClient(
    url(publisherSide),
    (publisher) =>
      withClient(
        url(subscriberSide),
        async (subscriber) => {
          const clients = { [publisherSide]: publisher, [subscriberSide]: subscriber } as Record<Side, Client>;
          const sides: Sides = {
            publisher,
            subscriber,
            drain: link
              ? async () =>
                  void (await waitForHeartbeat(
                    subscriber,
                    await beatHeartbeat(publisher),
                    performance.now() + 30_000,
                    'replication catch-up',
                  ))
              : undefined,
          };
          progress.start('Reading schemas');
          const schemaStart = performance.now();
          const [blueSchema, greenSchema] = await Promise.all([
            readSchema(clients.blue),
            readSchema(clients.green).then(withoutChangeCounters),
          ]);
          // Objects PostgreSQL derives from a parent's, named by it in whatever order they were made, are
          // left out on both sides (a name derived on either): their parents are compared.
          const derived = new Set([...(await derivedObjectKeys(clients.blue)), ...(await derivedObjectKeys(clients.green))]);
          // Blue's DDL log since the clone is the only witness that lets compare say "DDL on blue".
          const cloneStarted = state.history.find((h) => h.event === 'clone-started')?.at ?? state.createdAt;
          const blueDdl = (await hasDdlLog(clients.blue)) ? await ddlSince(clients.blue, cloneStarted, 100_000) : undefined;
          let schema: SchemaDiff = {
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
                  (
                    (await changesSinceSwitchover(clients.green)) ??
                    (await countRowsWrittenSince(clients.green, state.greenXidAtSwitchover))
                  ).map((w) => w.table),
                )
              : new Set<string>();
          const blueTables = new Map((await listTables(clients.blue)).map((t) => [t.display, t]));
          const greenTables = new Map((await listTables(clients.green)).map((t) => [t.display, t]));
          const createdByMigrations = new Set(
            schema.expected
              .filter((d) => d.kind === 'only-on-green' && d.object.startsWith('table '))
              .map((d) => displayName(...splitQualified(d.object.slice('table '.length)))),
          );
          progress.succeed('Schemas read');

          const names = [...new Set([...blueTables.keys(), ...greenTables.keys()])].sort();
          // Taken before the content is read: every row written after it has a younger xmin.
          const verifiedXid = await currentXid(publisher);
          const contentStart = performance.now();
          const tables: TableComparison[] = [];
          let rowsCompared = 0;
          let bytesCompared = 0;
          for (const [i, name] of names.entries()) {
            const b = blueTables.get(name);
            const g = greenTables.get(name);
            const t0 = performance.now();
            if (!b || !g) {
              const rows = await countAll(b ? clients.blue : clients.green, (b ?? g)!);
              tables.push({
                table: name,
                blueRows: b ? rows : null,
                greenRows: g ? rows : null,
                status: b ? 'missing-on-green' : createdByMigrations.has(name) ? 'new-on-green' : 'differs',
                method: 'count',
              });
              continue;
            }
            if (writtenOnGreen.has(name)) {
              const [blueRows, greenRows] = await Promise.all([countAll(clients.blue, b), countAll(clients.green, g)]);
              tables.push({
                table: name,
                blueRows,
                greenRows,
                status: blueRows === greenRows ? 'ok' : 'written-since-switchover',
                method: 'count',
              });
              continue;
            }
            progress.start(`Verifying ${name} (${i + 1}/${names.length})`);
            const ref = publisherSide === 'blue' ? b : g;
            const { spec, plan, keyUsable } = await buildTableSpec(
              publisher,
              subscriber,
              ref.schema,
              ref.name,
              publisherSide,
              subscriberSide,
            );
            const side = (pub: number, sub: number) =>
              publisherSide === 'blue' ? { blueRows: pub, greenRows: sub } : { blueRows: sub, greenRows: pub };
            const excluded = plan.excluded.length ? { excludedColumns: plan.excluded } : {};
            if (keyUsable) {
              const r = await drillTable(tableReader(sides, spec), {
                ...DEFAULT_DRILL,
                maxDifferences: options.maxDifferences ?? DEFAULT_DRILL.maxDifferences,
              });
              const kind = (k: RowDifference['kind']) =>
                (k === 'differs'
                  ? 'differs'
                  : k === 'missing-on-subscriber'
                    ? `missing-on-${subscriberSide}`
                    : `missing-on-${publisherSide}`) as 'differs' | 'missing-on-green' | 'missing-on-blue';
              tables.push({
                table: name,
                ...side(r.publisherRows, r.subscriberRows),
                status: r.status,
                method: 'key',
                chunks: r.chunks,
                ms: Math.round(performance.now() - t0),
                ...(r.differences.length
                  ? { differences: r.differences.map((d) => ({ ...d, kind: kind(d.kind) })), truncated: r.truncated }
                  : {}),
                ...(r.unsettled ? { unsettled: r.unsettled } : {}),
                ...excluded,
              });
              rowsCompared += r.publisherRows + r.subscriberRows;
            } else {
              const w = await multisetWindow(sides, spec);
              tables.push({
                table: name,
                ...side(w.publisher.count, w.subscriber.count),
                status: multisetVerdict(w),
                method: 'multiset',
                chunks: 1,
                ms: Math.round(performance.now() - t0),
                ...excluded,
              });
              rowsCompared += w.publisher.count + w.subscriber.count;
            }
            bytesCompared += (await tableBytes(clients.blue, b)) + (await tableBytes(clients.green, g));
            const last = tables[tables.length - 1];
            if (last.status === 'differs') progress.fail(`${name}: differs`);
            else progress.succeed(`${name}: ${last.status} (${last.ms} ms)`);
          }
          // Materialized views: their rows as a multiset. A difference is staleness, not a loss: each
          // flip refreshes them on the side traffic goes to.
          const lastRefresh = state.flips.filter((f) => f.ok).at(-1)?.at ?? state.history.find((h) => h.event === 'clone-finished')?.at;
          const [blueViews, greenViews] = await Promise.all([materializedViews(clients.blue), materializedViews(clients.green)]);
          for (const [name, view] of blueViews) {
            const other = greenViews.get(name);
            if (!other) continue;
            const t0 = performance.now();
            const base = { table: name, method: 'multiset' as const, materializedView: true };
            if (!view.populated || !other.populated) {
              tables.push({
                ...base,
                blueRows: null,
                greenRows: null,
                status: 'stale',
                staleSince: lastRefresh,
                ms: Math.round(performance.now() - t0),
              });
              continue;
            }
            const { spec } = await buildTableSpec(publisher, subscriber, view.schema, view.name, publisherSide, subscriberSide);
            const w = await multisetWindow({ publisher, subscriber }, spec);
            const side =
              publisherSide === 'blue'
                ? { blueRows: w.publisher.count, greenRows: w.subscriber.count }
                : { blueRows: w.subscriber.count, greenRows: w.publisher.count };
            const same = multisetVerdict(w) === 'ok';
            tables.push({
              ...base,
              ...side,
              status: same ? 'ok' : 'stale',
              ...(same ? {} : { staleSince: lastRefresh }),
              chunks: 1,
              ms: Math.round(performance.now() - t0),
            });
            rowsCompared += w.publisher.count + w.subscriber.count;
          }
          // Large objects: not replicated, compared on their own (count and content), named by oid.
          const largeObjects = await compareLargeObjects(clients.blue, clients.green, {
            writtenOnGreenByDesign: config.mode === 'freeze' && state.serving === 'green',
            maxDifferences: options.maxDifferences ?? DEFAULT_DRILL.maxDifferences,
          });
          if (largeObjects) tables.push(largeObjects);
          const contentMs = Math.round(performance.now() - contentStart);

          // A foreign key blue enforces the same way, between two tables just proven row-for-row equal to
          // blue's, cannot have orphans on green: blue cannot. Only the others are counted (an anti-join each).
          progress.start('Checking integrity on green');
          const integrityStart = performance.now();
          const equalOnBlue = (fk: ForeignKeyRef) =>
            blueSchema[`constraint ${fk.object}`] !== undefined &&
            blueSchema[`constraint ${fk.object}`] === greenSchema[`constraint ${fk.object}`];
          const proven = (table: string) => tables.some((t) => t.table === table && t.status === 'ok' && t.method === 'key');
          // Before the switchover in replicate mode green's sequences lag by design (synced at the flip).
          const onGreen = await checkIntegrity(clients.green, {
            sequencesMayLag: config.mode === 'replicate' && state.serving === 'blue',
            checkForeignKey: (fk) => !(equalOnBlue(fk) && proven(fk.child) && proven(fk.parent)),
          });
          // What blue has identically is no fault of the copy; an invalid index pg_dump left behind, no loss.
          const onBlue = await blueIntegrityBeside(clients.blue, onGreen);
          const leftBehind = invalidIndexesOnlyOnBlue(onBlue, new Set(Object.keys(greenSchema)));
          schema = { ...schema, unexpected: schema.unexpected.filter((d) => !leftBehind.keys.has(d.object)) };
          const integrity: IntegrityFinding[] = [...weighAgainstBlue(onGreen, onBlue), ...leftBehind.findings];
          // A different C library or ICU on green sorts text differently: its text indexes must be rebuilt there.
          const [blueCollation, greenCollation] = await Promise.all([readCollation(clients.blue), readCollation(clients.green)]);
          if (blueCollation.provider !== greenCollation.provider || blueCollation.version !== greenCollation.version) {
            const indexes = await indexesOnCollation(clients.green);
            integrity.push({
              check: 'collation-version',
              object: 'default collation',
              detail: `blue ${blueCollation.provider} ${blueCollation.version ?? '?'}, green ${greenCollation.provider} ${greenCollation.version ?? '?'}: text sorts differently; REINDEX on green before the switchover: ${indexes.length ? indexes.join(', ') : 'no index uses it'}`,
              severity: 'warn',
            });
          }
          // And each other collation the application uses (an ICU or libc one named by a column or an index).
          const inUse = await collationsInUse(clients.blue);
          for (const d of collationDrift(
            inUse,
            await collationVersions(
              clients.green,
              inUse.map((c) => c.name),
            ),
          )) {
            const indexes = await indexesOnCollation(clients.green, d.name);
            integrity.push({
              check: 'collation-version',
              object: `collation ${d.name}`,
              detail: `blue ${d.blue}, green ${d.green}: text it sorts sorts differently; REINDEX on green before the switchover: ${indexes.length ? indexes.join(', ') : 'no index uses it'}`,
              severity: 'warn',
            });
          }
          const integrityMs = Math.round(performance.now() - integrityStart);
          progress.succeed(`Integrity on green: ${integrity.length} finding${integrity.length === 1 ? '' : 's'} (${integrityMs} ms)`);
          const ok = verdict(tables, schema, integrity);
          const ms = Math.round(performance.now() - start);
          // A clean compare is the baseline switchover.verify checks against: what was written after it.
          if (ok && !tables.some((t) => t.status === 'in-flight')) {
            ensurePrivateDir(config.stateDir);
            writeFileAtomic(
              lastCompareFile(config.stateDir),
              JSON.stringify({ cutover: state.id, at: deps.clock.now().toISOString(), side: publisherSide, xid: verifiedXid }),
            );
          }
          const phasesMs = { content: contentMs, schema: schemaMs, integrity: integrityMs };
          // The last compare's table is part of the cutover's report.
          ensurePrivateDir(config.stateDir);
          writeFileAtomic(
            lastCompareResultFile(config.stateDir, state.id),
            JSON.stringify({
              at: deps.clock.now().toISOString(),
              ok,
              tables,
              schema,
              integrity,
              ms,
              rowsCompared,
              bytesCompared,
              phasesMs,
            }),
          );
          await deps.store.audit({
            at: deps.clock.now().toISOString(),
            by: deps.who,
            command: 'compare',
            cutover: state.id,
            outcome: ok ? 'ok' : 'failed',
          });
          return { ok, tables, schema, integrity, ms, rowsCompared, bytesCompared, phasesMs };
        },
        conn(deps, subscriberSide, 'compare'),
      ),
    conn(deps, publisherSide, 'compare'),
  );
}
