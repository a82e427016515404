/** pg_restore of a section of the streaming clone's schema dump (the rows never go through a file). */
import path from 'node:path';
import { runPgTool } from '../../adapters/pg-tools.js';
import { type CloneCtx, toolOn } from './context.js';

export const schemaDumpFile = (ctx: CloneCtx): string => path.join(ctx.dumpPath, 'schema.dump');

export function restoreSection(
  ctx: CloneCtx,
  blueMajor: number,
  section: 'pre-data' | 'post-data',
  list = 'restore.list',
  parallel = section === 'post-data',
): Promise<string> {
  return runPgTool({
    tool: 'pg_restore',
    args: [
      '--exit-on-error',
      `--section=${section}`,
      ...(parallel ? [`--jobs=${ctx.jobs}`] : []),
      `--use-list=${path.join(ctx.dumpPath, list)}`,
      `--dbname=${ctx.database}`,
      schemaDumpFile(ctx),
    ],
    sessionOptions: '-c synchronous_commit=off',
    ...toolOn(ctx, ctx.deps.config.green, blueMajor),
  });
}
