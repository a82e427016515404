/**
 * dump-schema (clone.backup "none"): only the schema is dumped (a small file), in the slot's snapshot;
 * the rows stream from that snapshot straight into green. Blue itself, kept intact by the cutover, is
 * the fallback. Not undone: the next clone replaces the folder.
 */
import { rmSync } from 'node:fs';
import { runPgTool } from '../../adapters/pg-tools.js';
import { ensurePrivateDir } from '../../adapters/state-store.js';
import type { Operation } from '../operation.js';
import { type BlueFacts, type CloneCtx, noted, type SnapshotInput, toolOn } from './context.js';
import { dirBytes, tocEntries, writeRestoreList } from './dump-files.js';
import { schemaDumpFile } from './schema-restore.js';

export const dumpSchema: Operation<CloneCtx, Pick<BlueFacts, 'blueMajor'> & SnapshotInput, void> = {
  name: 'dump-schema',
  title: () => "Dumping blue's schema (the rows stream straight to green)",
  run: async (ctx, { blueMajor, snapshot }) => {
    const { config } = ctx.deps;
    ensurePrivateDir(config.dumpDir);
    rmSync(ctx.dumpPath, { recursive: true, force: true });
    ensurePrivateDir(ctx.dumpPath);
    await runPgTool({
      tool: 'pg_dump',
      args: [
        '--schema-only',
        '--format=custom',
        '--no-publications',
        '--no-subscriptions',
        `--file=${schemaDumpFile(ctx)}`,
        ...(snapshot ? [`--snapshot=${snapshot}`] : []),
      ],
      ...toolOn(ctx, config.blue, blueMajor),
    });
    const toc = await runPgTool({ tool: 'pg_restore', args: ['--list', schemaDumpFile(ctx)], ...toolOn(ctx, config.blue, blueMajor) });
    writeRestoreList(ctx.dumpPath, toc);
    const bytes = dirBytes(ctx.dumpPath);
    await ctx.record.update({ dump: { path: ctx.dumpPath, format: 'schema only', bytes, tocEntries: tocEntries(toc).length } });
    return noted(`${(bytes / 1024).toFixed(0)} kB of schema in ${ctx.dumpPath}; no rows on this disk`);
  },
};
