/**
 * Schema comparison. A schema is a flat map from an object key (`column public.orders.price`) to a
 * readable definition. Differences are split into those the migrations explain (green changed since
 * the clone, blue did not) and unexpected ones (blue drifted, or green differs from blue without
 * having changed since the clone).
 */

export type SchemaSnapshot = Readonly<Record<string, string>>;

export interface SchemaDifference {
  readonly object: string;
  readonly kind: 'only-on-blue' | 'only-on-green' | 'changed';
  readonly blue?: string;
  readonly green?: string;
  /** Why it is expected or not, in a few words. */
  readonly reason: string;
}

export interface SchemaDiff {
  readonly expected: ReadonlyArray<SchemaDifference>;
  readonly unexpected: ReadonlyArray<SchemaDifference>;
}

/**
 * @param blue blue now
 * @param green green now
 * @param greenAtClone green right after the clone (equal to blue at that moment); undefined when unknown
 * @param greenAfterMigrations green right after the last migrate run (defaults to greenAtClone: no migrations)
 */
export function diffSchemas(blue: SchemaSnapshot, green: SchemaSnapshot, greenAtClone?: SchemaSnapshot, greenAfterMigrations = greenAtClone): SchemaDiff {
  const expected: SchemaDifference[] = [];
  const unexpected: SchemaDifference[] = [];
  const keys = [...new Set([...Object.keys(blue), ...Object.keys(green)])].sort();
  for (const object of keys) {
    const b = blue[object];
    const g = green[object];
    if (b === g) continue;
    const kind = b === undefined ? 'only-on-green' : g === undefined ? 'only-on-blue' : 'changed';
    if (!greenAtClone) {
      unexpected.push({ object, kind, blue: b, green: g, reason: 'no schema recorded at clone time to tell migrations apart' });
      continue;
    }
    const atClone = greenAtClone[object];
    const byMigrations = greenAfterMigrations?.[object];
    if (atClone !== b) {
      unexpected.push({ object, kind, blue: b, green: g, reason: 'blue changed since the clone (DDL on blue)' });
    } else if (byMigrations !== atClone && byMigrations === g) {
      expected.push({ object, kind, blue: b, green: g, reason: 'changed on green by migrations' });
    } else if (atClone !== g) {
      unexpected.push({ object, kind, blue: b, green: g, reason: 'changed on green outside the migrations' });
    } else {
      unexpected.push({ object, kind, blue: b, green: g, reason: 'differs although neither side changed since the clone' });
    }
  }
  return { expected, unexpected };
}

/** The `+ … / - … / ~ …` line an operator reads for one difference. */
export function describeDifference(d: SchemaDifference): string {
  switch (d.kind) {
    case 'only-on-green':
      return `+ ${d.object}: ${d.green}`;
    case 'only-on-blue':
      return `- ${d.object}: ${d.blue}`;
    default:
      return `~ ${d.object}: ${d.blue} → ${d.green}`;
  }
}

/** How an enum type reads in a snapshot: its labels in sort order, as JSON (labels may hold any character). */
export function enumDefinition(labels: ReadonlyArray<string>): string {
  return `enum ${JSON.stringify(labels)}`;
}

/** The labels of an enum definition written by `enumDefinition`. */
export function enumLabels(definition: string): string[] {
  return definition.startsWith('enum ') ? (JSON.parse(definition.slice('enum '.length)) as string[]) : [];
}
