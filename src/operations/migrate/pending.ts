/**
 * What migrate reads before it plans: the migration files against green's history (refusing an applied
 * file that changed), the lint's verdict in replicate mode, and the down script `--down` would run.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BlockedError, BlueGreenError, MigrationError } from '../../core/errors.js';
import { describeLintFinding, type LintFinding, lintMigrations } from '../../core/migration-lint.js';
import {
  type AppliedMigration,
  findMigrations,
  loadMigration,
  type Migration,
  type MigrationPlan,
  planMigrations,
} from '../../core/migrations.js';
import { parseScript } from '../../adapters/sql-parser.js';
import { ensureHistory, readHistory } from '../../adapters/migration-history.js';
import type { Client } from '../../adapters/pg.js';
import { allowOwnWrites } from '../../adapters/write-guard.js';
import type { EffectReport } from '../../commands/migrate-effect.js';

/** Reads the migration files of a folder and plans them against what is applied. */
export async function readMigrationPlan(dir: string, applied: ReadonlyArray<AppliedMigration>): Promise<MigrationPlan> {
  if (!existsSync(dir))
    throw new BlueGreenError(`migrations.dir: ${dir} does not exist`, { hint: 'Create it, or fix migrations.dir in the config.' });
  const { migrations, problems } = findMigrations(readdirSync(dir));
  if (problems.length)
    throw new BlueGreenError(`migrations.dir: ${problems.join('; ')}`, {
      hint: 'Rename the files as <version>_<name>.up.sql / .down.sql.',
    });
  const loaded = migrations.map((m) =>
    loadMigration(
      m,
      readFileSync(path.join(dir, m.upFile), 'utf8'),
      m.downFile ? readFileSync(path.join(dir, m.downFile), 'utf8') : undefined,
    ),
  );
  return planMigrations(loaded, applied);
}

/** The plan against green's history table (made when missing); an applied file that changed since is refused. */
export async function planOnGreen(green: Client, dir: string): Promise<MigrationPlan> {
  await allowOwnWrites(green);
  await ensureHistory(green);
  const plan = await readMigrationPlan(dir, await readHistory(green));
  if (plan.changed.length) {
    throw new MigrationError(
      `applied migration${plan.changed.length > 1 ? 's have' : ' has'} changed since: ${plan.changed.map((c) => c.file).join(', ')}`,
      {
        hint: 'An applied migration must never be edited: restore the file, and put the change in a new migration.',
      },
    );
  }
  return plan;
}

/** Replicate mode: refuses, before anything runs, migrations that would break replication or the rollback path. */
export async function assertMigrationsReplicable(pending: ReadonlyArray<Migration>): Promise<LintFinding[]> {
  const files = await Promise.all(pending.map(async (m) => ({ file: m.upFile, sql: m.up, parsed: await parseScript(m.up) })));
  const findings = lintMigrations(files);
  const refused = findings.filter((f) => f.severity === 'refuse');
  if (refused.length === 0) return findings;
  const statements = `${refused.length} migration statement${refused.length > 1 ? 's' : ''}`;
  throw new BlockedError(`${statements} cannot run in replicate mode:\n${refused.map((f) => `  ${describeLintFinding(f)}`).join('\n')}`, {
    hint:
      'Nothing was applied. Change the migrations as suggested (expand now, contract in a later cutover), mark a file ' +
      '`-- bluegreen:unchecked <reason>` to take responsibility for it, or use "mode": "freeze".',
  });
}

/** What runs must be what was checked (the lock is taken after the check). */
export function assertCheckedAsPending(pending: ReadonlyArray<Migration>, effect: EffectReport | undefined): void {
  if (effect && pending.map((m) => m.upFile).join('\n') !== effect.changes.map((c) => c.source).join('\n')) {
    throw new MigrationError('the pending migrations changed while their effect was being checked', {
      hint: 'Run `bluegreen migrate` again.',
    });
  }
}

export type Revertible = Migration & { readonly down: string; readonly downFile: string };

/** `--down`: the latest migration applied in this cutover, with its down script. */
export async function latestToRevert(dir: string, appliedHere: ReadonlyArray<string>): Promise<Revertible> {
  const version = appliedHere[appliedHere.length - 1];
  if (!version)
    throw new BlueGreenError('no migration applied in this cutover to revert', {
      hint: 'Down scripts run only on green, for migrations applied since the clone.',
    });
  const all = await readMigrationPlan(dir, []);
  const m = all.pending.find((p) => p.version === version);
  if (!m?.down || !m.downFile)
    throw new BlueGreenError(`migration ${version} has no down script`, {
      hint: `Add ${version}_<name>.down.sql, or clone green again.`,
    });
  return m as Revertible;
}
