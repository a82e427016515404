/** The dump folder's files shared by the dump and the schema dump: its size, and the restore list that leaves blue's own objects out. */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDdlLogTocLine } from '../../adapters/ddl-log.js';
import { isGuardTocLine } from '../../adapters/write-guard.js';

export const dirBytes = (dir: string): number => readdirSync(dir).reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);

/** The entries of a `pg_restore --list` output. */
export const tocEntries = (toc: string): string[] => toc.split('\n').filter((l) => /^\d+;/.test(l));

/** restore.list: the guard belongs to blue's freeze and the DDL log to blue's history, left out so green never inherits them. */
export function writeRestoreList(dumpPath: string, toc: string): void {
  writeFileSync(
    path.join(dumpPath, 'restore.list'),
    toc
      .split('\n')
      .map((l) => (isGuardTocLine(l) || isDdlLogTocLine(l) ? `;${l}` : l))
      .join('\n'),
    { mode: 0o600 },
  );
}
