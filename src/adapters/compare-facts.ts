/**
 * What compare reads beside the schema snapshot to tell true differences from a restore's: the
 * objects PostgreSQL derives (and names) itself, each table's column order, and blue's side of
 * green's integrity findings.
 */
import type { IntegrityFinding } from '../core/compare-model.js';
import { checkIntegrity } from './catalog.js';
import type { Client } from './pg.js';

/**
 * Blue's integrity findings that can match green's: every invalid constraint and index (catalog
 * reads), but orphans and sequences only where green found some, since those cost a scan each and
 * blue may be large.
 */
export async function blueIntegrityBeside(blue: Client, green: ReadonlyArray<IntegrityFinding>): Promise<IntegrityFinding[]> {
  const orphaned = new Set(green.filter((f) => f.check === 'foreign-key-orphans').map((f) => f.object));
  const behind = new Set(green.filter((f) => f.check === 'sequence-behind').map((f) => f.object));
  return checkIntegrity(blue, {
    sequencesMayLag: false,
    checkForeignKey: (fk) => orphaned.has(fk.object),
    checkSequence: (sequence) => behind.has(sequence),
  });
}
