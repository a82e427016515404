/**
 * The serving side's schema when it started serving: the baseline its later DDL is judged against
 * (what a flip would carry or lose), and the replication link from the serving side.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { SchemaSnapshot } from '../../core/schema-diff.js';
import type { CutoverState, ReplicationLink, Side } from '../../core/state.js';
import { schemaFile, writeFileAtomic } from '../../adapters/state-store.js';

/** Where the serving side's schema is recorded when it starts serving. */
export function baselineFile(stateDir: string, cutoverId: string): string {
  return path.join(stateDir, `${cutoverId}.schema-serving.json`);
}

export function recordBaseline(stateDir: string, cutoverId: string, side: Side, schema: SchemaSnapshot): void {
  writeFileAtomic(baselineFile(stateDir, cutoverId), JSON.stringify({ side, schema }));
}

export function readBaseline(stateDir: string, state: CutoverState, side: Side): SchemaSnapshot | undefined {
  const file = baselineFile(stateDir, state.id);
  if (existsSync(file)) {
    const b = JSON.parse(readFileSync(file, 'utf8')) as { side: Side; schema: SchemaSnapshot };
    if (b.side === side) return b.schema;
  }
  // Before the first switchover blue's baseline is its schema at the clone (green's right after the restore).
  const atClone = schemaFile(stateDir, state.id, 'at-clone');
  return side === 'blue' && existsSync(atClone) ? JSON.parse(readFileSync(atClone, 'utf8')) : undefined;
}

/** The replication link from the serving side to the standby, when one runs. */
export function servingLink(state: CutoverState): ReplicationLink | undefined {
  return state.serving === 'blue' ? state.forward : state.reverse;
}
