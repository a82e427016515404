/**
 * The built-in migration runner's pure part: which files are migrations, in what order, which are
 * pending, and which applied ones have changed since (refused: history must not be rewritten).
 *
 * Files: `<version>_<name>.up.sql` with an optional `<version>_<name>.down.sql`; versions are
 * numbers (`0001`, `20261121120000`) ordered numerically. A file whose first lines contain
 * `-- bluegreen:no-transaction` runs outside a transaction (for CREATE INDEX CONCURRENTLY).
 */
import { createHash } from 'node:crypto';

export interface MigrationSource {
  readonly version: string;
  readonly name: string;
  readonly upFile: string;
  readonly downFile?: string;
}

export interface Migration extends MigrationSource {
  readonly up: string;
  readonly down?: string;
  readonly checksum: string;
  readonly transactional: boolean;
}

export interface AppliedMigration {
  readonly version: string;
  readonly name: string;
  readonly checksum: string;
  /** The reason its file gave for `-- bluegreen:unchecked`, when it did. */
  readonly unchecked?: string;
}

const FILE = /^(\d+)_([A-Za-z0-9][A-Za-z0-9_.-]*)\.(up|down)\.sql$/;

/** Pairs up/down files; reports names that look like migrations but are not valid ones. */
export function findMigrations(fileNames: ReadonlyArray<string>): { migrations: MigrationSource[]; problems: string[] } {
  const byVersion = new Map<string, { name: string; up?: string; down?: string }>();
  const problems: string[] = [];
  for (const file of fileNames) {
    if (!file.endsWith('.sql')) continue;
    const m = FILE.exec(file);
    if (!m) {
      problems.push(`${file}: not a migration name (expected <version>_<name>.up.sql or .down.sql)`);
      continue;
    }
    const [, version, name, direction] = m;
    const entry = byVersion.get(version) ?? { name };
    if (entry.name !== name) {
      problems.push(`${file}: version ${version} is already used by "${entry.name}"`);
      continue;
    }
    entry[direction as 'up' | 'down'] = file;
    byVersion.set(version, entry);
  }
  const migrations: MigrationSource[] = [];
  for (const [version, e] of byVersion) {
    if (!e.up) {
      problems.push(`${e.down}: has no matching .up.sql`);
      continue;
    }
    migrations.push({ version, name: e.name, upFile: e.up, downFile: e.down });
  }
  migrations.sort((a, b) => (BigInt(a.version) < BigInt(b.version) ? -1 : BigInt(a.version) > BigInt(b.version) ? 1 : 0));
  return { migrations, problems };
}

export function checksum(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function isTransactional(sql: string): boolean {
  const head = sql.split('\n').slice(0, 5).join('\n');
  return !/^\s*--\s*bluegreen:no-transaction\b/m.test(head);
}

export function loadMigration(source: MigrationSource, up: string, down?: string): Migration {
  return { ...source, up, down, checksum: checksum(up), transactional: isTransactional(up) };
}

export interface MigrationPlan {
  readonly pending: ReadonlyArray<Migration>;
  readonly applied: ReadonlyArray<AppliedMigration>;
  /** Applied migrations whose file has changed since: the run is refused. */
  readonly changed: ReadonlyArray<{ readonly version: string; readonly name: string; readonly file: string }>;
  /** Applied versions with no file any more: reported, not fatal. */
  readonly missing: ReadonlyArray<AppliedMigration>;
}

export function planMigrations(files: ReadonlyArray<Migration>, applied: ReadonlyArray<AppliedMigration>): MigrationPlan {
  const appliedByVersion = new Map(applied.map((a) => [a.version, a]));
  const fileVersions = new Set(files.map((f) => f.version));
  return {
    pending: files.filter((f) => !appliedByVersion.has(f.version)),
    applied,
    changed: files
      .filter((f) => appliedByVersion.has(f.version) && appliedByVersion.get(f.version)!.checksum !== f.checksum)
      .map((f) => ({ version: f.version, name: f.name, file: f.upFile })),
    missing: applied.filter((a) => !fileVersions.has(a.version)),
  };
}

/** 1-based line and column of a character position (PostgreSQL's error `position` is 1-based). */
export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, position - 1));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

/** The file name `migrations create` writes: a UTC timestamp version keeps teams from colliding. */
export function newMigrationVersion(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export function slug(name: string): string {
  const s = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return s || 'migration';
}
