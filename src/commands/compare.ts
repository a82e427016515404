/**
 * `bluegreen compare`: exact row counts of every table on both sides (the two sides concurrently),
 * a schema diff that tells the migrations' changes from unexpected ones, and integrity checks on green.
 */
import { existsSync, readFileSync } from 'node:fs';
import { type CompareResult, compareCounts, settleUnderReplication, verdict } from '../core/compare-model.js';
import { beatHeartbeat, waitForHeartbeat } from '../adapters/replication.js';
import { allowOwnWrites } from '../adapters/write-guard.js';
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
  // Under live replication, count after the subscriber has applied everything up to now.
  const link = state.serving === 'green' ? state.reverse : state.forward;
  const publisher: 'blue' | 'green' = state.serving;
  const drain = async () => {
    if (!link) return;
    const [pubUrl, subUrl] = publisher === 'blue' ? [config.blue, config.green] : [config.green, config.blue];
    const token = await withClient(pubUrl, (c) => allowOwnWrites(c).then(() => beatHeartbeat(c)), conn(deps, publisher, 'compare'));
    await withClient(subUrl, (c) => waitForHeartbeat(c, token, performance.now() + 30_000, 'replication catch-up before counting'), conn(deps, publisher === 'blue' ? 'green' : 'blue', 'compare'));
  };
  await drain();
  const [blue, green] = await Promise.all([side(config.blue, 'blue'), side(config.green, 'green')]);
  const schema = diffSchemas(blue.schema, green.schema, greenAtClone, greenAfterMigrations);
  const createdByMigrations = new Set(
    schema.expected.filter((d) => d.kind === 'only-on-green' && d.object.startsWith('table ')).map((d) => displayFromKey(d.object.slice('table '.length))),
  );
  let tables = compareCounts(blue.counts, green.counts, createdByMigrations, config.mode === 'replicate' ? new Set() : green.written);
  if (link) {
    const recountOn = (url: string, label: 'blue' | 'green', names: ReadonlyArray<string>) =>
      withClient(url, async (c) => countRows(c, (await listTables(c)).filter((t) => names.includes(t.display))), conn(deps, label, 'compare'));
    tables = await settleUnderReplication(tables, publisher, async (names) => {
      await drain();
      const [b, g] = await Promise.all([recountOn(config.blue, 'blue', names), recountOn(config.green, 'green', names)]);
      return { blue: b, green: g };
    });
  }
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
