/**
 * Large objects at the clone (logical replication does not carry them), and the record of which oids the
 * last copy carried, which every flip reads and updates: its steps are src/operations/flip/carry-large-objects.ts
 * (before the pause) and carry-large-objects-changed.ts (inside it).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config.js';
import { beginReadAt, copyLargeObjects, largeObjectOids } from '../adapters/large-objects.js';
import type { Client } from '../adapters/pg.js';
import { ensurePrivateDir, writeFileAtomic } from '../adapters/state-store.js';

/** The oids the side we go to holds as copies from the other side: the last copy's record. */
function recordFile(config: Config, cutoverId: string): string {
  return path.join(config.stateDir, `${cutoverId}.large-objects.json`);
}

export function recordLargeObjects(config: Config, cutoverId: string, oids: Iterable<string>): void {
  ensurePrivateDir(config.stateDir);
  writeFileAtomic(recordFile(config, cutoverId), JSON.stringify([...oids]));
}

/** The oids the last copy carried (the flip's large-object steps read it). */
export function readLargeObjectsRecord(config: Config, cutoverId: string): Set<string> {
  const file = recordFile(config, cutoverId);
  return new Set(existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as string[]) : []);
}

/**
 * The clone's step: the streaming clone copies every large object under the slot's snapshot (a
 * schema-only dump holds none); the dumping clone's pg_dump carries them. Either way the copied set is recorded.
 */
export async function cloneLargeObjects(
  blue: Client,
  green: Client,
  config: Config,
  cutoverId: string,
  snapshot: string | undefined,
  streaming: boolean,
): Promise<string | { skipped: string }> {
  await beginReadAt(blue, snapshot);
  try {
    const all = await largeObjectOids(blue);
    recordLargeObjects(config, cutoverId, all);
    if (!all.length) return { skipped: 'blue has no large objects' };
    if (!streaming)
      return { skipped: `pg_dump carries blue's ${all.length} large object${all.length > 1 ? 's' : ''} (owner, ACL and comment too)` };
    const bytes = await copyLargeObjects(blue, green, all);
    return `${all.length} large object${all.length > 1 ? 's' : ''}, ${(bytes / 1048576).toFixed(1)} MB, with owner, ACL and comment`;
  } finally {
    await blue.query('ROLLBACK');
  }
}
