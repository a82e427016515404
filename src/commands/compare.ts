/**
 * `bluegreen compare`: exact row counts of every table on both sides (the two sides concurrently),
 * a schema diff that tells the migrations' changes from unexpected ones, and integrity checks on green.
 */
import { existsSync, readFileSync } from 'node:fs';
import { type CompareResult, compareCounts, verdict } from '../core/compare-model.js';
import { diffSchemas, type SchemaSnapshot } from '../core/schema-diff.js';
import { checkIntegrity, countRows, countRowsWrittenSince, listTables, readSchema } from '../adapters/catalog.js';
import { withClient } from '../adapters/pg.js';
import { schemaFile } from './clone.js';
import { conn, type Deps, loadState } from './context.js';

export async function _compare(deps: Deps): Promise<CompareResult> {
  const { config, progress } = deps;
  const state = await loadState(deps);
  const start = performance.now();
  const recorded = (when: 'at-clone' | 'after-migrations'): SchemaSnapshot | undefined => {
    const file = schemaFile(config.stateDir, state.id, when);
    return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  };
  const greenAtClone = recorded('at-clone');
  const greenAfterMigrations = recorded('after-migrations') ?? greenAtClone;
  progress.start('Counting rows and reading schemas on blue and green');
  const side = (url: string, label: 'blue' | 'green') =>
    withClient(
      url,
      async (client) => {
        const tables = await listTables(client);
        const counts = await countRows(client, tables);
        const schema = await readSchema(client);
        // Before the switchover in replicate mode green's sequences lag by design (synced at the flip).
        const integrity = label === 'green' ? await checkIntegrity(client, config.mode === 'replicate' && !['switched-over', 'finalized'].includes(state.phase)) : [];
        // Once green serves, the tables it has written to since the switchover differ from blue by design.
        const written = label === 'green' && state.serving === 'green' && state.greenXidAtSwitchover
          ? new Set((await countRowsWrittenSince(client, state.greenXidAtSwitchover)).map((w) => w.table))
          : new Set<string>();
        return { counts, schema, integrity, written };
      },
      conn(deps, label, 'compare'),
    );
  const [blue, green] = await Promise.all([side(config.blue, 'blue'), side(config.green, 'green')]);
  const schema = diffSchemas(blue.schema, green.schema, greenAtClone, greenAfterMigrations);
  const createdByMigrations = new Set(
    schema.expected.filter((d) => d.kind === 'only-on-green' && d.object.startsWith('table ')).map((d) => displayFromKey(d.object.slice('table '.length))),
  );
  const tables = compareCounts(blue.counts, green.counts, createdByMigrations, green.written);
  const ok = verdict(tables, schema, green.integrity);
  const ms = Math.round(performance.now() - start);
  if (ok) progress.succeed(`Compared ${tables.length} tables (${ms} ms)`);
  else progress.fail(`Compared ${tables.length} tables: differences found (${ms} ms)`);
  await deps.store.audit({ at: deps.clock.now().toISOString(), by: deps.who, command: 'compare', cutover: state.id, outcome: ok ? 'ok' : 'failed' });
  return { ok, tables, schema, integrity: green.integrity, ms };
}

/** `public.orders` from the schema key `public.orders` (keys quote with %I, display names quote only when needed). */
function displayFromKey(key: string): string {
  const parts = key.match(/"(?:[^"]|"")*"|[^.]+/g) ?? [key];
  const clean = parts.map((p) => (p.startsWith('"') ? p.slice(1, -1).replace(/""/g, '"') : p));
  const quote = (s: string) => (/^[a-z_][a-z0-9_$]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`);
  return clean.map(quote).join('.');
}
