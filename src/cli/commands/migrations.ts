/** `bluegreen migrations create|status`: migration files, and which of them green has applied. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type BlueGreenError, ExitCode, describeError } from '../../core/errors.js';
import { newMigrationVersion, slug } from '../../core/migrations.js';
import type { Report } from '../../core/report.js';
import { withClient } from '../../adapters/pg.js';
import { conn, type Deps, loadConfig } from '../../commands/context.js';
import { readHistory, readMigrationPlan } from '../../commands/migrate.js';
import type { Cli } from '../context.js';
import { configOption, jsonOption, pathSchema } from '../options.js';
import { defineCommand } from '../register.js';
import { table } from '../render.js';

const createCommand = defineCommand({
  name: 'create',
  args: '<name>',
  description: 'write <version>_<name>.up.sql and .down.sql in the migrations folder',
  options: {
    config: configOption('config file (for migrations.dir)'),
    dir: {
      flags: '--dir <dir>',
      description: 'migrations folder (default: migrations.dir from the config, else ./migrations)',
      schema: pathSchema('folder').optional(),
    },
  },
  action: (cli, o, [name]) => createMigration(cli, name, o),
});

/** Writes the up and down files; the folder is --dir, else the config's migrations.dir, else ./migrations. */
function createMigration(cli: Cli, name: string, o: { readonly config: string; readonly dir?: string }): void {
  try {
    let dir = o.dir;
    if (!dir && existsSync(o.config)) {
      const config = loadConfig(o.config);
      if (config.migrations && 'dir' in config.migrations) dir = config.migrations.dir;
    }
    dir = path.resolve(dir ?? 'migrations');
    mkdirSync(dir, { recursive: true });
    const base = `${newMigrationVersion(new Date())}_${slug(name)}`;
    writeFileSync(
      path.join(dir, `${base}.up.sql`),
      `-- ${name}\n-- Expand only in replicate mode: add tables, nullable columns or columns with defaults, indexes.\n`,
      { flag: 'wx' },
    );
    writeFileSync(path.join(dir, `${base}.down.sql`), `-- Undo ${name} (runs on green only, before the switchover)\n`, { flag: 'wx' });
    cli.out(`Created ${path.join(dir, `${base}.up.sql`)}\n        ${path.join(dir, `${base}.down.sql`)}`);
    cli.setExitCode(ExitCode.ok);
  } catch (error) {
    cli.fail(error);
  }
}

const statusCommand = defineCommand({
  name: 'status',
  description: 'list migrations: applied on green, pending, or changed since applied',
  options: { config: configOption(), json: jsonOption('print one JSON object on stdout') },
  action: (cli, o) => cli.execute(o, listMigrations, renderMigrationList),
});

interface MigrationList {
  readonly ok: boolean;
  readonly migrations: ReadonlyArray<{
    readonly version: string;
    readonly name: string;
    readonly status: string;
    readonly unchecked?: string;
  }>;
  readonly note?: string;
  readonly error?: Report['error'];
}

/** The migrations folder read against green's history: applied, pending, or changed since applied. */
async function listMigrations(deps: Deps): Promise<MigrationList> {
  const m = deps.config.migrations;
  if (!m || !('dir' in m))
    return { ok: true, migrations: [], note: 'migrations.command: the external tool keeps its own history', error: undefined };
  let applied: Awaited<ReturnType<typeof readHistory>>;
  try {
    applied = await withClient(deps.config.green, readHistory, conn(deps, 'green', 'migrations status'));
  } catch (error) {
    // Without green's history nothing is known to be pending: listing every file as pending would read as data.
    const why = `unknown: ${describeError(error).split('\n')[0]}`;
    return {
      ok: false,
      migrations: [],
      note: `Migrations on green: ${why}`,
      error: {
        code: 'reading_failed',
        exitCode: ExitCode.failed,
        message: `migrations on green: ${why}`,
        hint: (error as BlueGreenError).hint,
      },
    };
  }
  const plan = await readMigrationPlan(m.dir, applied);
  const changed = new Set(plan.changed.map((c) => c.version));
  const rows = [
    ...plan.applied.map((a) => ({
      version: a.version,
      name: a.name,
      status: `${changed.has(a.version) ? 'CHANGED since applied' : 'applied'}${a.unchecked ? ` (unchecked: ${a.unchecked})` : ''}`,
      ...(a.unchecked ? { unchecked: a.unchecked } : {}),
    })),
    ...plan.pending.map((p) => ({ version: p.version, name: p.name, status: 'pending' })),
  ];
  return { ok: plan.changed.length === 0, migrations: rows, note: undefined, error: undefined };
}

function renderMigrationList(r: MigrationList): string {
  if (r.note !== undefined) return r.note;
  if (!r.migrations.length) return 'No migrations.';
  return table(
    ['version', 'name', 'status'],
    r.migrations.map((m) => [m.version, m.name, m.status]),
  );
}

export const migrationsCommand = defineCommand({
  name: 'migrations',
  description: 'create migration files, or list which are applied on green',
  options: {},
  subcommands: [createCommand, statusCommand],
});
