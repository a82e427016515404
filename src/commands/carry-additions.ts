/**
 * Before a flip's pause (replicate mode): the side traffic goes to may hold what the side we leave
 * lacks: at the switchover, what green's migrations added (enum values, types, tables with their
 * rows, columns with their values, partitions). Reverse replication stops at the first row that
 * needs one of them (a new enum value in an existing column), so they are carried to the side we
 * leave first: additive, so harmless to the application still writing there, and the reverse
 * publication then covers them from the start. The side we go to is frozen until the pause, so what
 * is copied from it holds still.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Side } from '../core/state.js';
import { assessWindow, type CarryAction, describeCarry } from '../core/window.js';
import { readSchema } from '../adapters/catalog/schema-snapshot.js';
import type { Client } from '../adapters/pg.js';
import { sqlName } from '../adapters/schema-carry.js';
import { copyColumnsByKey, copyRows } from '../adapters/row-copy.js';
import { writeFileAtomic } from '../adapters/state-store.js';
import { installWriteGuard } from '../adapters/write-guard.js';
import { carrySchemaInOrder } from './sync-schema.js';

/** What replication back needs the side we leave to have; indexes and keys wait for sync-schema at the next flip. */
const NEEDED: ReadonlySet<CarryAction['kind']> = new Set(['enum', 'enum-value', 'sequence', 'table', 'partition', 'column']);

/** Where the copies a carry still owes are written down before it starts, so a run cut short is finished by the next. */
function pendingFile(stateDir: string, cutoverId: string, leaving: Side): string {
  return path.join(stateDir, `${cutoverId}.carry-to-${leaving}.json`);
}

interface Pending {
  readonly tables: ReadonlyArray<string>;
  readonly columns: ReadonlyArray<{ readonly table: string; readonly column: string }>;
}

/**
 * Carries `going`'s additive schema to `leaving`, with the rows and values it holds, and returns one
 * line per change. Destructive differences are not judged here: the lint and the window do that.
 * What must be copied is written down first: a run cut short (a killed controller, a lost
 * connection) left the objects made but their rows or values partly copied, and the next run, which
 * then sees nothing to carry, copies those again from scratch before anything else.
 */
export async function carryAdditions(
  going: Client,
  leaving: Client,
  sides: { readonly going: Side; readonly leaving: Side },
  record: { readonly stateDir: string; readonly cutoverId: string },
): Promise<string[]> {
  const file = pendingFile(record.stateDir, record.cutoverId, sides.leaving);
  const owed: Pending = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { tables: [], columns: [] };
  const [goingNow, leavingNow] = await Promise.all([readSchema(going), readSchema(leaving)]);
  const verdict = assessWindow({ from: sides.going, to: sides.leaving, fromNow: goingNow, toNow: leavingNow });
  const actions = verdict.carry.filter((a) => NEEDED.has(a.kind) && !(a.kind === 'column' && !a.add));
  const tables = [...owed.tables, ...actions.flatMap((a) => (a.kind === 'table' ? [a.table] : []))];
  const columns = [...owed.columns, ...actions.flatMap((a) => (a.kind === 'column' ? [{ table: a.table, column: a.column }] : []))];
  if (!tables.length && !columns.length && !actions.length) return [];
  writeFileAtomic(file, JSON.stringify({ tables, columns } satisfies Pending));
  await carrySchemaInOrder(going, leaving, actions);
  const copied: string[] = [];
  for (const table of tables) {
    // Nothing writes there yet (its application does not know the table): emptied, then copied whole.
    await leaving.query(`DELETE FROM ${sqlName(table)}`);
    copied.push(`${await copyRows(going, leaving, table)} rows of ${table}`);
  }
  // No lock on the side we leave: its application does not know these columns, and nothing replicates into it.
  // NOT NULL is left off there for the same reason: rows its application writes until the pause have no value for them.
  for (const c of columns)
    copied.push(`${await copyColumnsByKey(going, leaving, c.table, [c.column], { lock: false })} values of ${c.table}.${c.column}`);
  // New tables there are frozen with the rest at the pause.
  await installWriteGuard(leaving, { lockTimeout: '5s' });
  rmSync(file, { force: true });
  const owedNames = [...owed.tables, ...owed.columns.map((c) => `${c.table}.${c.column}`)];
  const redone = owedNames.length ? [`finished what an earlier run left half-copied (${owedNames.join(', ')})`] : [];
  return [...redone, ...actions.map(describeCarry), ...copied.filter((c) => !c.startsWith('0 '))];
}
