/** verify-dump: the dump is readable (pg_restore --list lists its entries); the restore list is written from it. */
import { BlueGreenError } from '../../core/errors.js';
import { runPgTool } from '../../adapters/pg-tools.js';
import type { Operation } from '../operation.js';
import { type BlueFacts, type CloneCtx, toolOn } from './context.js';
import { tocEntries, writeRestoreList } from './dump-files.js';

export const verifyDump: Operation<CloneCtx, Pick<BlueFacts, 'blueMajor'>, { readonly tocEntries: number }> = {
  name: 'verify-dump',
  title: () => 'Checking the dump is readable (pg_restore --list)',
  run: async (ctx, { blueMajor }) => {
    const toc = await runPgTool({ tool: 'pg_restore', args: ['--list', ctx.dumpPath], ...toolOn(ctx, ctx.deps.config.blue, blueMajor) });
    const entries = tocEntries(toc);
    if (entries.length === 0)
      throw new BlueGreenError(`the dump in ${ctx.dumpPath} lists no entries`, {
        hint: 'The dump is unusable; check the disk and run clone again.',
      });
    writeRestoreList(ctx.dumpPath, toc);
    await ctx.record.update({ dump: { ...ctx.record.state().dump!, tocEntries: entries.length } });
    return { output: { tocEntries: entries.length }, detail: `${entries.length} entries` };
  },
};
