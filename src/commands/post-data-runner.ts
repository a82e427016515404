/**
 * The streaming clone's post-data work, scheduled around what PostgreSQL's locks allow, from the
 * moment the first table's rows are in until the last foreign key is checked.
 *
 * - A large table's keys (primary key, unique, exclusion) are built as soon as its rows are in, then
 *   the foreign keys that point at it are added (NOT VALID: no scan, a moment's lock), then its other
 *   indexes. One table at a time while rows stream: the streams keep the rest of the CPU.
 * - When the last row is in, the tables still waiting, and every small table, go to one pg_restore
 *   with the clone's jobs, beside the large table being built then.
 * - A foreign key is added once its table is complete and the table it references has its keys, and
 *   checked (VALIDATE) beside everything else: the check takes ShareUpdateExclusive on its table and
 *   RowShare on the other, so it runs while the referenced table's remaining indexes are built and
 *   beside another key's check of the same table, where pg_restore's ADD CONSTRAINT would wait for both.
 *   One check at a time while rows stream, `jobs` after; the largest pair of tables first.
 * - Comments and security labels come last (`afterKeys`): one may describe a foreign key we add
 *   ourselves, which pg_restore's own order cannot know of.
 *
 * Pure scheduling: the pg_restore runs and the SQL are the caller's (`PostDataWork`), so the order
 * and the locks' reasoning are tested with fakes.
 */
import type { ForeignKey } from '../core/post-data.js';

export interface PostDataWork {
  /** pg_restore of these TOC lines; `parallel` with the clone's jobs. */
  restore(lines: ReadonlyArray<string>, parallel: boolean): Promise<void>;
  /** Adds the keys (NOT VALID where blue's is validated), together. */
  addKeys(keys: ReadonlyArray<ForeignKey>): Promise<void>;
  /** Checks one key added NOT VALID. */
  validate(key: ForeignKey): Promise<void>;
}

export interface PostDataPlan {
  /** Every active post-data TOC line. */
  readonly lines: ReadonlyArray<string>;
  /** The tables worth building as soon as their rows are in, by tableKey: their key constraints' and indexes' lines. */
  readonly early: ReadonlyMap<string, { readonly keys: ReadonlyArray<string>; readonly indexes: ReadonlyArray<string> }>;
  /** The foreign keys made by us instead of pg_restore, by TOC line. */
  readonly foreignKeys: ReadonlyMap<string, ForeignKey>;
  /** Lines restored once every foreign key is added (comments, security labels: they may name one). */
  readonly afterKeys?: ReadonlyArray<string>;
  readonly jobs: number;
}

export interface PostDataSummary {
  /** Large tables whose keys and indexes were built as their rows landed. */
  readonly earlyTables: number;
  readonly keysAdded: number;
  readonly keysChecked: number;
}

export interface PostDataRunner {
  /** Every row of this table is in. */
  tableDone(table: string): void;
  /** Every row of every table is in: the rest starts. */
  streamsDone(): void;
  /** Waits for everything started; throws the first failure. After `streamsDone`. */
  finish(): Promise<PostDataSummary>;
  /** The stream failed: starts nothing more and waits for what runs. */
  stop(): Promise<void>;
}

const keyOf = (k: ForeignKey): string => `${k.schema}\u0000${k.table}`;

export function postDataRunner(plan: PostDataPlan, work: PostDataWork): PostDataRunner {
  const fkLines = new Set(plan.foreignKeys.keys());
  const lastLines = new Set(plan.afterKeys ?? []);
  /** Lines the early builds took (done or running): not the rest's. */
  const claimed = new Set<string>();
  /** Tables built early (started): their readiness is theirs to tell, not the rest's. */
  const earlyStarted = new Set<string>();
  const keysReady = new Set<string>();
  const complete = new Set<string>();
  let restDone = false;
  let streaming = true;
  let failure: unknown;
  const running = new Set<Promise<void>>();
  const track = (p: Promise<void>): void => {
    const tracked = p.catch((error: unknown) => {
      failure ??= error;
    });
    running.add(tracked);
    void tracked.finally(() => running.delete(tracked));
  };

  // Foreign keys: waiting to be added, then waiting to be checked.
  const toAdd = new Set(plan.foreignKeys.values());
  const toCheck: ForeignKey[] = [];
  let checking = 0;
  let added = 0;
  let checked = 0;
  const hasKeys = (t: string) => keysReady.has(t) || (restDone && !earlyStarted.has(t));
  const isComplete = (t: string) => complete.has(t) || (restDone && !earlyStarted.has(t));
  const pumpChecks = (): void => {
    const limit = streaming ? 1 : Math.max(1, plan.jobs);
    while (!failure && toCheck.length && checking < limit) {
      const key = toCheck.shift()!;
      checking++;
      track(
        work
          .validate(key)
          .then(() => {
            checked++;
          })
          .finally(() => {
            checking--;
            pumpChecks();
          }),
      );
    }
  };
  /** Adds every key now possible; resolves once they are added (checks queued, not awaited). */
  const addReady = (): Promise<void> => {
    if (failure) return Promise.resolve();
    const batch = [...toAdd].filter((k) => isComplete(keyOf(k)) && hasKeys(k.references));
    if (!batch.length) return Promise.resolve();
    for (const k of batch) toAdd.delete(k);
    const done = work.addKeys(batch).then(() => {
      added += batch.length;
      toCheck.push(...batch.filter((k) => k.validated));
      toCheck.sort((a, b) => b.bytes - a.bytes);
      pumpChecks();
    });
    track(done);
    return done.catch(() => undefined);
  };

  // The early builds: one table at a time, in the order their rows landed.
  const waiting: string[] = [];
  let building = false;
  let earlyTables = 0;
  const buildNext = (): void => {
    if (building || !streaming || failure || !waiting.length) return;
    const table = waiting.shift()!;
    const group = plan.early.get(table)!;
    building = true;
    earlyStarted.add(table);
    for (const l of [...group.keys, ...group.indexes]) claimed.add(l);
    track(
      (async () => {
        if (group.keys.length) await work.restore(group.keys, false);
        keysReady.add(table);
        // Before the other indexes: adding a key that points here needs a lock their builds would hold.
        await addReady();
        if (group.indexes.length && !failure) await work.restore(group.indexes, false);
        complete.add(table);
        earlyTables++;
        void addReady();
      })().finally(() => {
        building = false;
        buildNext();
      }),
    );
  };

  return {
    tableDone(table) {
      if (!plan.early.has(table) || !streaming) return;
      waiting.push(table);
      buildNext();
    },
    streamsDone() {
      if (!streaming) return;
      streaming = false;
      waiting.length = 0;
      const rest = plan.lines.filter((l) => !claimed.has(l) && !fkLines.has(l) && !lastLines.has(l));
      track(
        (async () => {
          if (rest.length && !failure) await work.restore(rest, true);
          restDone = true;
          await addReady();
        })(),
      );
      pumpChecks();
    },
    async stop() {
      streaming = false;
      waiting.length = 0;
      failure ??= new Error('stopped');
      while (running.size) await Promise.all([...running]);
    },
    async finish() {
      while (running.size) await Promise.all([...running]);
      if (failure) throw failure;
      if (toAdd.size) throw new Error(`internal: ${toAdd.size} foreign keys were never added (the rest was not restored)`);
      if (lastLines.size) await work.restore([...lastLines], false);
      return { earlyTables, keysAdded: added, keysChecked: checked };
    },
  };
}
