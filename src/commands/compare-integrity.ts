/**
 * compare's integrity step on green: invalid constraints and indexes, orphaned foreign keys, sequences
 * behind, each weighed against what blue has identically; and collations that sort text differently on
 * green than on blue, with the indexes to rebuild there.
 */
import { type IntegrityFinding, invalidIndexesOnlyOnBlue, type TableComparison, weighAgainstBlue } from '../core/compare-model.js';
import { collationDrift } from '../core/preflight-rules.js';
import type { SchemaDiff, SchemaSnapshot } from '../core/schema-diff.js';
import { indexesOnCollation } from '../adapters/catalog/collation-indexes.js';
import { checkIntegrity, type ForeignKeyRef } from '../adapters/catalog/integrity.js';
import { blueIntegrityBeside } from '../adapters/compare-facts.js';
import { collationsInUse, collationVersions, readCollation } from '../adapters/database.js';
import type { Client } from '../adapters/pg.js';
import type { Side } from '../core/state.js';

export interface IntegrityInputs {
  readonly blueSchema: SchemaSnapshot;
  readonly greenSchema: SchemaSnapshot;
  readonly schema: SchemaDiff;
  /** The content step's comparisons: a table proven equal to blue's by key needs no orphan count. */
  readonly tables: ReadonlyArray<TableComparison>;
  /** Replicate mode before the switchover: green's sequences lag by design (synced at the flip). */
  readonly sequencesMayLag: boolean;
}

/** A different C library or ICU on green sorts text differently: its text indexes must be rebuilt there. */
async function collationFindings(clients: Readonly<Record<Side, Client>>): Promise<IntegrityFinding[]> {
  const out: IntegrityFinding[] = [];
  const rebuild = (indexes: ReadonlyArray<string>) =>
    `REINDEX on green before the switchover: ${indexes.length ? indexes.join(', ') : 'no index uses it'}`;
  const [blue, green] = await Promise.all([readCollation(clients.blue), readCollation(clients.green)]);
  if (blue.provider !== green.provider || blue.version !== green.version) {
    const indexes = await indexesOnCollation(clients.green);
    out.push({
      check: 'collation-version',
      object: 'default collation',
      detail:
        `blue ${blue.provider} ${blue.version ?? '?'}, green ${green.provider} ${green.version ?? '?'}: ` +
        `text sorts differently; ${rebuild(indexes)}`,
      severity: 'warn',
    });
  }
  // And each other collation the application uses (an ICU or libc one named by a column or an index).
  const inUse = await collationsInUse(clients.blue);
  const onGreen = await collationVersions(
    clients.green,
    inUse.map((c) => c.name),
  );
  for (const d of collationDrift(inUse, onGreen)) {
    const indexes = await indexesOnCollation(clients.green, d.name);
    out.push({
      check: 'collation-version',
      object: `collation ${d.name}`,
      detail: `blue ${d.blue}, green ${d.green}: text it sorts sorts differently; ${rebuild(indexes)}`,
      severity: 'warn',
    });
  }
  return out;
}

/**
 * Green's integrity, weighed against blue's, and the schema diff without the invalid indexes pg_dump
 * left behind on blue (no loss).
 */
export async function integrityOnGreen(
  clients: Readonly<Record<Side, Client>>,
  i: IntegrityInputs,
): Promise<{ integrity: IntegrityFinding[]; schema: SchemaDiff }> {
  // A foreign key blue enforces the same way, between two tables just proven row-for-row equal to
  // blue's, cannot have orphans on green: blue cannot. Only the others are counted (an anti-join each).
  const equalOnBlue = (fk: ForeignKeyRef) =>
    i.blueSchema[`constraint ${fk.object}`] !== undefined &&
    i.blueSchema[`constraint ${fk.object}`] === i.greenSchema[`constraint ${fk.object}`];
  const proven = (table: string) => i.tables.some((t) => t.table === table && t.status === 'ok' && t.method === 'key');
  const onGreen = await checkIntegrity(clients.green, {
    sequencesMayLag: i.sequencesMayLag,
    checkForeignKey: (fk) => !(equalOnBlue(fk) && proven(fk.child) && proven(fk.parent)),
  });
  // What blue has identically is no fault of the copy; an invalid index pg_dump left behind, no loss.
  const onBlue = await blueIntegrityBeside(clients.blue, onGreen);
  const leftBehind = invalidIndexesOnlyOnBlue(onBlue, new Set(Object.keys(i.greenSchema)));
  const schema = { ...i.schema, unexpected: i.schema.unexpected.filter((d) => !leftBehind.keys.has(d.object)) };
  const integrity: IntegrityFinding[] = [
    ...weighAgainstBlue(onGreen, onBlue),
    ...leftBehind.findings,
    ...(await collationFindings(clients)),
  ];
  return { integrity, schema };
}
