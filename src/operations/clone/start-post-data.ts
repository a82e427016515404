/**
 * Starts the streaming clone's post-data work (see post-data-runner.ts): which large tables are built
 * as their rows land, the foreign keys added and checked by us, the rest by pg_restore. The runner and
 * green's key sessions are live resources in the context, let go by `settle` after a failure.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { addForeignKeys, type CopyUnit, foreignKeys, sessionPool, tableObjects, validateForeignKey } from '../../adapters/stream-copy.js';
import {
  describesAnObject,
  groupPostData,
  isForeignKeyLeftToRestore,
  keysFirst,
  listWith,
  splitForeignKeys,
  tableKey,
} from '../../core/post-data.js';
import { type PostDataRunner, postDataRunner } from '../../commands/post-data-runner.js';
import { type CloneCtx, onBlue } from './context.js';
import { restoreSection } from './schema-restore.js';

/** Worth building as soon as its rows are in: tables of at least 32 MB and 2% of the rows to stream. */
function earlyTables(byTable: ReturnType<typeof groupPostData>['byTable'], units: ReadonlyArray<CopyUnit>) {
  const bytes = new Map<string, number>();
  for (const u of units) bytes.set(tableKey(u.schema, u.name), (bytes.get(tableKey(u.schema, u.name)) ?? 0) + u.bytes);
  const total = [...bytes.values()].reduce((a, b) => a + b, 0);
  const early = new Map<string, { keys: string[]; indexes: string[] }>();
  for (const [table, items] of byTable) {
    if ((bytes.get(table) ?? 0) < Math.max(32 * 1048576, total / 50)) continue;
    early.set(table, keysFirst(items));
  }
  return early;
}

export async function startPostData(
  ctx: CloneCtx,
  blueMajor: number,
  units: ReadonlyArray<CopyUnit>,
  snapshot: string | undefined,
): Promise<PostDataRunner> {
  const { config } = ctx.deps;
  const lines = readFileSync(path.join(ctx.dumpPath, 'restore.list'), 'utf8').split('\n');
  const active = lines.filter((l) => /^\d+;/.test(l));
  const { byTable } = groupPostData(active, await onBlue(ctx, tableObjects));
  // The foreign keys as the streamed rows see them (inside the snapshot).
  const { foreignKeys: keys } = splitForeignKeys(active, await onBlue(ctx, (b) => foreignKeys(b, snapshot ?? '')));
  const sessions = sessionPool(config.green, ctx.jobs + 1, {
    label: 'green',
    secrets: config.secrets,
    applicationName: 'bluegreen clone (foreign keys)',
    // As the restore's sessions: a failed clone is redone from scratch. A check is a hash anti-join
    // that PostgreSQL runs with work_mem = maintenance_work_mem; once the referenced keys outgrow it,
    // it spills in batches whatever the size, and a batch that fits the CPU's cache is probed about
    // twice as fast as a larger one (16 MB against 256 MB: BENCHMARKS.md, "maintenance_work_mem for
    // the post-data").
    setup: `SET synchronous_commit = off; SET maintenance_work_mem = '16MB'`,
  });
  ctx.live.keySessions = sessions;
  let n = 0;
  return postDataRunner(
    // After the rest: foreign keys pg_restore adds (once partitioned keys are whole), then comments (they may name a key).
    {
      lines: active,
      early: earlyTables(byTable, units),
      foreignKeys: keys,
      afterKeys: active.filter((l) => isForeignKeyLeftToRestore(l, keys) || describesAnObject(l)),
      jobs: ctx.jobs,
    },
    {
      restore: async (items, parallel) => {
        const list = `restore-post-data-${++n}.list`;
        writeFileSync(path.join(ctx.dumpPath, list), listWith(lines, new Set(items)), { mode: 0o600 });
        await restoreSection(ctx, blueMajor, 'post-data', list, parallel);
      },
      addKeys: (batch) => sessions.use((green) => addForeignKeys(green, batch)),
      validate: (key) => sessions.use((green) => validateForeignKey(green, key)),
    },
  );
}
