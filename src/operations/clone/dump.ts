/**
 * dump (clone.backup "dump"): the whole of blue, read in the slot's snapshot, kept on the controller's
 * disk as the pre-migration backup. The replication connection holding the snapshot is let go as soon
 * as the dump has read it. Not undone: the files are the backup, and the next clone replaces them.
 */
import { rmSync } from 'node:fs';
import { runPgTool } from '../../adapters/pg-tools.js';
import { ensurePrivateDir } from '../../adapters/state-store.js';
import type { Operation } from '../operation.js';
import { type BlueFacts, type CloneCtx, release, type SnapshotInput, toolOn } from './context.js';
import { dirBytes } from './dump-files.js';

export const dump: Operation<CloneCtx, BlueFacts & SnapshotInput, { readonly bytes: number }> = {
  name: 'dump',
  title: (ctx) => `Dumping blue (${ctx.jobs} jobs)`,
  run: async (ctx, { blueMajor, tableCount, snapshot }) => {
    const { config, progress } = ctx.deps;
    ensurePrivateDir(config.dumpDir);
    rmSync(ctx.dumpPath, { recursive: true, force: true });
    let done = 0;
    await runPgTool({
      tool: 'pg_dump',
      args: [
        '--format=directory',
        `--jobs=${ctx.jobs}`,
        '--compress=0',
        '--no-publications',
        '--no-subscriptions',
        '--verbose',
        `--file=${ctx.dumpPath}`,
        ...(snapshot ? [`--snapshot=${snapshot}`] : []),
      ],
      ...toolOn(ctx, config.blue, blueMajor),
      onStderrLine: (line) => {
        if (/finished item \d+ TABLE DATA/.test(line)) progress.update(`Dumping blue: ${++done}/${tableCount} tables`);
      },
    });
    await release(ctx.live);
    const bytes = dirBytes(ctx.dumpPath);
    await ctx.record.update({ dump: { path: ctx.dumpPath, format: 'directory', bytes, tocEntries: 0 } });
    return { output: { bytes }, detail: `${(bytes / 1024 / 1024).toFixed(1)} MB in ${ctx.dumpPath}` };
  },
};
