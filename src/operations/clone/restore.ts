/**
 * restore (clone.backup "dump"): the dump into green's database, blue's guard and DDL log left out.
 * Not undone: green keeps its partial copy for inspection; the next clone re-creates it.
 */
import path from 'node:path';
import { runPgTool } from '../../adapters/pg-tools.js';
import type { Operation } from '../operation.js';
import { type BlueFacts, type CloneCtx, noted, toolOn } from './context.js';

export const restore: Operation<CloneCtx, BlueFacts, void> = {
  name: 'restore',
  title: (ctx) => `Restoring into green (${ctx.jobs} jobs)`,
  run: async (ctx, { blueMajor, tableCount }) => {
    const { config, progress } = ctx.deps;
    let done = 0;
    await runPgTool({
      tool: 'pg_restore',
      args: [
        '--exit-on-error',
        `--jobs=${ctx.jobs}`,
        '--verbose',
        `--use-list=${path.join(ctx.dumpPath, 'restore.list')}`,
        `--dbname=${ctx.database}`,
        ctx.dumpPath,
      ],
      // A failed restore is redone from scratch, so its commits need not wait for the disk. Index builds
      // keep green's own maintenance_work_mem (BENCHMARKS.md, "maintenance_work_mem for the post-data").
      sessionOptions: '-c synchronous_commit=off',
      ...toolOn(ctx, config.green, blueMajor),
      onStderrLine: (line) => {
        if (/finished item \d+ TABLE DATA/.test(line)) progress.update(`Restoring into green: ${++done}/${tableCount} tables`);
      },
    });
    return noted(`${tableCount} tables`);
  },
};
