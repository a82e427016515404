/**
 * Before a flip's pause (replicate mode): the side traffic goes to may hold what the side we leave
 * lacks: at the switchover, what green's migrations added (enum values, types, tables with their
 * rows, columns with their values, partitions). Reverse replication stops at the first row that
 * needs one of them (a new enum value in an existing column), so they are carried to the side we
 * leave first: additive, so harmless to the application still writing there, and the reverse
 * publication then covers them from the start. The side we go to is frozen until the pause, so what
 * is copied from it holds still.
 */
import type { Side } from '../core/state.js';
import { assessWindow, type CarryAction, describeCarry } from '../core/window.js';
import { readSchema } from '../adapters/catalog.js';
import type { Client } from '../adapters/pg.js';
import { copyColumnsByKey, copyRows } from '../adapters/schema-carry.js';
import { installWriteGuard } from '../adapters/write-guard.js';
import { carrySchemaInOrder } from './sync-schema.js';

/** What replication back needs the side we leave to have; indexes and keys wait for sync-schema at the next flip. */
const NEEDED: ReadonlySet<CarryAction['kind']> = new Set(['enum', 'enum-value', 'sequence', 'table', 'partition', 'column']);

/**
 * Carries `going`'s additive schema to `leaving`, with the rows and values it holds, and returns one
 * line per change. Destructive differences are not judged here: the lint and the window do that.
 */
export async function carryAdditions(going: Client, leaving: Client, sides: { readonly going: Side; readonly leaving: Side }): Promise<string[]> {
  const [goingNow, leavingNow] = await Promise.all([readSchema(going), readSchema(leaving)]);
  const verdict = assessWindow({ from: sides.going, to: sides.leaving, fromNow: goingNow, toNow: leavingNow });
  const actions = verdict.carry.filter((a) => NEEDED.has(a.kind) && !(a.kind === 'column' && !a.add));
  if (!actions.length) return [];
  const outcome = await carrySchemaInOrder(going, leaving, actions);
  const copied: string[] = [];
  for (const table of outcome.tablesToSync) copied.push(`${await copyRows(going, leaving, table)} rows of ${table}`);
  // No lock on the side we leave: its application does not know these columns, and nothing replicates into it.
  // NOT NULL is left off there for the same reason: rows its application writes until the pause have no value for them.
  for (const c of outcome.columnsToCopy) copied.push(`${await copyColumnsByKey(going, leaving, c.table, [c.column], { lock: false })} values of ${c.table}.${c.column}`);
  // New tables there are frozen with the rest at the pause.
  await installWriteGuard(leaving, { lockTimeout: '5s' });
  return [...actions.map(describeCarry), ...copied.filter((c) => !c.startsWith('0 '))];
}
