/**
 * Compare's view of large objects: logical replication does not carry them, so they are checked on
 * their own, by count and by a fingerprint of each (its pages' hashes, owner, ACL, comment), and every
 * one that differs is named by oid. A flip copies them; until then a difference is a real one.
 */
import type { TableComparison } from '../core/compare-model.js';
import { largeObjectDifference, readLargeObjects } from '../adapters/large-objects.js';
import type { Client } from '../adapters/pg.js';
import { largeObjectAccess } from '../adapters/privilege-probe.js';
import { BlockedError } from '../core/errors.js';

export const LARGE_OBJECTS_ENTRY = 'large objects (pg_largeobject)';

/**
 * One entry for compare's list: `ok`, or `differs` with each differing oid (`written-since-switchover`
 * when green serves in freeze mode).
 */
export async function compareLargeObjects(
  blue: Client,
  green: Client,
  options: { writtenOnGreenByDesign: boolean; maxDifferences: number },
): Promise<TableComparison | undefined> {
  const start = performance.now();
  // Without a superuser pg_largeobject is unreadable (managed services): with none on either side there is
  // nothing to compare; with some, their content cannot be compared, and compare must not say it matches.
  const access = await Promise.all([largeObjectAccess(blue), largeObjectAccess(green)]);
  if (access.some((a) => !a.readable)) {
    if (access.every((a) => a.count === 0)) return undefined;
    const counts = `${access[0].count} large objects on blue, ${access[1].count} on green`;
    throw new BlockedError(`${counts}, and pg_largeobject is not readable to the configured role: their content cannot be compared`, {
      hint: 'Compare as a role that may read pg_largeobject (a superuser), or move the large objects into bytea columns.',
    });
  }
  const [b, g] = await Promise.all([readLargeObjects(blue), readLargeObjects(green)]);
  if (!b.size && !g.size) return undefined;
  const differences: Array<NonNullable<TableComparison['differences']>[number]> = [];
  for (const oid of [...new Set([...b.keys(), ...g.keys()])].sort((x, y) => Number(x) - Number(y))) {
    const [x, y] = [b.get(oid), g.get(oid)];
    if (!y) differences.push({ key: { oid }, kind: 'missing-on-green' });
    else if (!x) differences.push({ key: { oid }, kind: 'missing-on-blue' });
    else {
      const columns = largeObjectDifference(x, y);
      if (columns.length) differences.push({ key: { oid }, kind: 'differs', columns });
    }
  }
  const status = !differences.length ? 'ok' : options.writtenOnGreenByDesign ? 'written-since-switchover' : 'differs';
  return {
    table: LARGE_OBJECTS_ENTRY,
    blueRows: b.size,
    greenRows: g.size,
    status,
    method: 'key',
    chunks: 1,
    ms: Math.round(performance.now() - start),
    ...(differences.length
      ? { differences: differences.slice(0, options.maxDifferences), truncated: differences.length > options.maxDifferences }
      : {}),
  };
}
