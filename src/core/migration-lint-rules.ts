/**
 * The migration lint's rules as data: what each protects (the direction), the problem in the operator's
 * words, and what to do instead. The README's rule table is this list.
 */

export type Direction = 'forward' | 'reverse' | 'identity' | 'data' | 'opaque';

/** What each rule protects, in the operator's words; the README's rule table is this list. */
export const RULES = {
  'drop-table': {
    direction: 'identity',
    problem: 'drops a table blue still writes to: replication into green stops',
    instead: 'stop using the table now; drop it in a later cutover, once this one is finalized (contract phase)',
  },
  'drop-column': {
    direction: 'identity',
    problem: "drops a column blue still writes: replicated rows would not fit, and a rollback could not carry green's rows back",
    instead: 'keep the column and stop writing it; drop it in a later cutover (contract phase)',
  },
  'rename-column': {
    direction: 'identity',
    problem: 'renames a column: blue keeps sending the old name',
    instead: 'add the new column, write both, backfill, move reads, and drop the old one in a later cutover',
  },
  'rename-table': {
    direction: 'identity',
    problem: 'renames a table (or moves it to another schema): blue keeps sending the old name',
    instead: 'create the new table alongside, move the application, drop the old one in a later cutover',
  },
  'change-type': {
    direction: 'forward',
    problem: "changes a column's type: blue's values may not convert, and a rollback sends the new type's values to blue",
    instead: 'add a column of the new type, backfill it, switch over, and drop the old one in a later cutover',
  },
  'set-not-null': {
    direction: 'forward',
    problem: 'makes an existing column NOT NULL: a NULL written on blue would stop replication',
    instead: 'enforce it in the application now, and SET NOT NULL in a later cutover',
  },
  'add-not-null-column': {
    direction: 'forward',
    problem: 'adds a NOT NULL column without a default: rows replicated from blue have no value for it',
    instead: 'give it a DEFAULT, or add it nullable and backfill',
  },
  'add-check': {
    direction: 'forward',
    problem:
      'adds a CHECK blue does not enforce: green checks every replicated row against it (NOT VALID too), ' +
      'so a row blue accepts can stop replication',
    instead: 'enforce it in the application now, and add the CHECK in a later cutover',
  },
  'add-unique': {
    direction: 'forward',
    problem:
      'adds a uniqueness (UNIQUE, PRIMARY KEY, EXCLUDE or a unique index) blue does not enforce: ' +
      'a duplicate written on blue stops replication',
    instead: 'create it in a later cutover, once blue no longer writes',
  },
  'add-foreign-key': {
    direction: 'forward',
    problem:
      'adds a validated foreign key: replicated rows are not checked against it, ' +
      'so green could hold rows that break a constraint it calls valid',
    instead: 'add it NOT VALID now, and VALIDATE CONSTRAINT after the cutover',
  },
  'drop-not-null': {
    direction: 'reverse',
    problem: 'drops NOT NULL: green may then write NULLs blue refuses, and a rollback stops at the first one',
    instead: 'keep NOT NULL until the cutover is finalized, then drop it',
  },
  'drop-constraint': {
    direction: 'reverse',
    problem: 'drops a constraint blue still enforces: green may then write rows blue refuses, and a rollback stops at the first one',
    instead: 'drop it in a later cutover, once this one is finalized',
  },
  persistence: {
    direction: 'identity',
    problem: 'makes a table unlogged: unlogged tables are not replicated at all',
    instead: 'keep it logged; change it in a later cutover or in freeze mode',
  },
  partition: {
    direction: 'identity',
    problem: "attaches or detaches a partition: rows blue writes are routed by its partitioning, not green's",
    instead: 'change partitioning in freeze mode, or in a later cutover',
  },
  'replica-identity': {
    direction: 'identity',
    problem: 'changes how rows are identified for replication (replica identity or primary key)',
    instead: 'make this change in a later cutover, or in freeze mode',
  },
  'drop-sequence': {
    direction: 'identity',
    problem: "drops a sequence blue's tables may use: the switchover syncs every sequence from blue",
    instead: 'drop it in a later cutover, once this one is finalized',
  },
  'drop-type': {
    direction: 'identity',
    problem: 'drops or renames a type, schema or enum value blue still uses: replicated values would not fit',
    instead: 'add the new one alongside; drop the old one in a later cutover',
  },
  'enum-value': {
    direction: 'reverse',
    problem: 'adds an enum value green may write and blue cannot read yet',
    instead: 'nothing to do: sync-schema carries the value to blue before a rollback (every flip runs it)',
  },
  'data-change': {
    direction: 'data',
    problem: 'changes rows of a table blue writes: green would differ from blue (and INSERTs collide with ids blue hands out)',
    instead: 'make data fixes after the switchover, on the side that serves',
  },
  backfill: {
    direction: 'data',
    problem: 'backfills a column only green has: rows blue writes until the switchover get its default, not this value',
    instead: 'run the backfill again after the switchover (it is safe to repeat), or give the column a DEFAULT',
  },
  opaque: {
    direction: 'opaque',
    problem: 'runs code no reader can see into (a DO block, EXECUTE, CALL, or a function called for its effects)',
    instead:
      'write the statements out, or mark the file `-- bluegreen:unchecked <reason>` to take responsibility ' +
      '(recorded in the migration history): its effect is still checked on a scratch copy of green first',
  },
  'drop-schema': {
    direction: 'identity',
    problem: 'drops a schema blue still uses',
    instead: 'drop it in a later cutover (contract phase)',
  },
} as const satisfies Record<string, { direction: Direction; problem: string; instead: string }>;

export type RuleId = keyof typeof RULES;
