/**
 * Table data streamed from blue to green without touching the controller's disk: each table (or each
 * block range of a large one) is a COPY out of a session on blue that reads the replication slot's
 * exported snapshot, piped straight into a COPY on green; several run at once. Binary format when both
 * servers are the same major (every built-in type's binary form is then the same) and the table holds no
 * value whose binary form only blue understands (a reg* OID, an extension's type); text otherwise.
 */
import { pipeline } from 'node:stream/promises';
import { type ForeignKey, tableKey, type TableObject } from '../core/post-data.js';
import { quoteIdent, quoteLiteral, quoteQualified } from '../core/quote.js';
import { CopyOutRelay, relayInto } from './copy-relay.js';
import { NOT_PORTABLE_IN_BINARY, typesHolding } from './type-walk.js';
import type pg from 'pg';
import { type Client, type ConnectOptions, withClient } from './pg.js';

export interface CopyUnit {
  readonly schema: string;
  readonly name: string;
  readonly columns: ReadonlyArray<string>;
  /** Heap blocks [from, to) of a large table, or the whole table. */
  readonly blocks?: { readonly from: number; readonly to: number };
  /** On-disk bytes this unit covers, for progress and the estimate of time left. */
  readonly bytes: number;
  /**
   * Whether its rows may travel in binary when both servers are the same major: not when a column's type
   * is or holds a reg* value or an extension's base type (`NOT_PORTABLE_IN_BINARY`).
   */
  readonly binary: boolean;
}

/**
 * The units of work: whole tables, largest first, so each can be loaded frozen (see `streamTables`);
 * only a table larger than an even share of the whole (it alone would keep one worker busy past the
 * others) is split into block ranges, about four parts a worker, between 8 and 256 MB each.
 */
export async function planCopy(blue: Client, jobs: number): Promise<CopyUnit[]> {
  const { rows } = await blue.query<{ schema: string; name: string; pages: number; bytes: string; columns: string[]; types: string[] }>(
    `SELECT n.nspname AS schema, c.relname AS name, pg_relation_size(c.oid) / current_setting('block_size')::int AS pages,
            pg_total_relation_size(c.oid)::text AS bytes,
            array_agg(a.attname::text ORDER BY a.attnum) AS columns, array_agg(a.atttypid::text ORDER BY a.attnum) AS types
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      -- Unlogged tables too: logical replication never carries them, so the clone's copy is all green gets.
      WHERE c.relkind = 'r' AND c.relpersistence IN ('p', 'u') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        -- Ours go too (the drain's heartbeat row, a migration history), but blue's freeze flag and DDL log stay on blue.
        AND NOT (n.nspname = 'bluegreen' AND c.relname IN ('write_guard', 'ddl_log'))
        AND n.nspname NOT LIKE 'pg_toast%' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
      GROUP BY c.oid, n.nspname, c.relname ORDER BY pg_total_relation_size(c.oid) DESC`,
  );
  const textOnly = await typesHolding(blue, [...new Set(rows.flatMap((t) => t.types))], NOT_PORTABLE_IN_BINARY);
  const units: CopyUnit[] = [];
  const blockSize = 8192;
  const totalBytes = rows.reduce((n, t) => n + t.pages * blockSize, 0);
  const chunkBytes = Math.min(256 * 1048576, Math.max(8 * 1048576, totalBytes / (Math.max(1, jobs) * 4)));
  for (const t of rows) {
    const bytes = Number(t.bytes);
    const binary = !t.types.some((type) => textOnly.has(type));
    const chunkPages = Math.max(1, Math.floor(chunkBytes / blockSize));
    if (t.pages <= chunkPages || t.pages * blockSize <= totalBytes / Math.max(1, jobs)) {
      units.push({ schema: t.schema, name: t.name, columns: t.columns, bytes, binary });
      continue;
    }
    // The last range is open-ended: rows the snapshot sees past the size read now are included.
    for (let from = 0; from < t.pages; from += chunkPages) {
      const last = from + chunkPages >= t.pages;
      units.push({
        schema: t.schema,
        name: t.name,
        columns: t.columns,
        blocks: { from, to: last ? Number.MAX_SAFE_INTEGER : from + chunkPages },
        bytes: Math.round((bytes * Math.min(chunkPages, t.pages - from)) / t.pages),
        binary,
      });
    }
  }
  return units;
}

function copyOutSql(u: CopyUnit, binary: boolean): string {
  const cols = u.columns.map(quoteIdent).join(', ');
  const where = u.blocks
    ? ` WHERE ctid >= '(${u.blocks.from},0)'::tid${u.blocks.to === Number.MAX_SAFE_INTEGER ? '' : ` AND ctid < '(${u.blocks.to},0)'::tid`}`
    : '';
  return `COPY (SELECT ${cols} FROM ONLY ${quoteQualified(u.schema, u.name)}${where}) TO STDOUT${binary ? ' (FORMAT binary)' : ''}`;
}

/** Blue's indexes and key constraints (primary key, unique, exclusion) with their tables: what can be built per table. */
export async function tableObjects(blue: Client): Promise<TableObject[]> {
  const { rows } = await blue.query<{ kind: 'INDEX' | 'CONSTRAINT'; schema: string; table: string; name: string }>(
    `SELECT 'INDEX' AS kind, n.nspname AS schema, t.relname AS table, c.relname AS name
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
     UNION ALL
     SELECT 'CONSTRAINT', n.nspname, t.relname, k.conname
       FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE k.contype IN ('p', 'u', 'x')`,
  );
  return rows;
}

/** A read-only transaction on blue inside the exported `snapshot` (none in freeze mode: blue holds still), one round trip. */
async function beginInSnapshot(blue: Client, snapshot: string, then?: string): Promise<void> {
  await blue.query(
    ['BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', snapshot ? `SET TRANSACTION SNAPSHOT ${quoteLiteral(snapshot)}` : '', then ?? '']
      .filter(Boolean)
      .join('; '),
  );
}

/**
 * Blue's foreign keys from one plain table to another, as the rows being streamed see them (inside
 * `snapshot` when there is one), definitions with every name qualified. Keys on or to partitioned
 * tables are not here: PostgreSQL cannot add those NOT VALID, so pg_restore makes them as dumped.
 */
export async function foreignKeys(blue: Client, snapshot: string): Promise<ForeignKey[]> {
  await beginInSnapshot(blue, snapshot, 'SET LOCAL search_path = pg_catalog');
  try {
    const { rows } = await blue.query<{
      schema: string;
      table: string;
      name: string;
      ref_schema: string;
      ref_table: string;
      definition: string;
      validated: boolean;
      bytes: string;
    }>(
      `SELECT n.nspname AS schema, t.relname AS table, k.conname AS name, rn.nspname AS ref_schema, r.relname AS ref_table,
              pg_get_constraintdef(k.oid) AS definition, k.convalidated AS validated,
              (pg_relation_size(t.oid) + pg_relation_size(r.oid))::text AS bytes
         FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
         JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
        WHERE k.contype = 'f' AND t.relkind = 'r' AND r.relkind = 'r' AND k.conparentid = 0`,
    );
    return rows.map((r) => ({
      schema: r.schema,
      table: r.table,
      name: r.name,
      references: tableKey(r.ref_schema, r.ref_table),
      definition: r.definition,
      validated: r.validated,
      bytes: Number(r.bytes),
    }));
  } finally {
    await blue.query('COMMIT');
  }
}

/**
 * The statements that make `key` on green as blue has it. A validated key is added NOT VALID (a
 * moment's ShareRowExclusive lock on both tables, no scan) and then validated, which scans the
 * referencing table under a lock that lets another key's check of the same tables run beside it
 * (ShareUpdateExclusive on it, RowShare on the referenced one). The end state is blue's: validated.
 * A key blue has not validated is added as it is (its definition says NOT VALID) and left so.
 */
export function foreignKeySql(key: ForeignKey): { add: string; validate?: string } {
  const table = `ALTER TABLE ONLY ${quoteQualified(key.schema, key.table)}`;
  return key.validated
    ? {
        add: `${table} ADD CONSTRAINT ${quoteIdent(key.name)} ${key.definition} NOT VALID`,
        validate: `${table} VALIDATE CONSTRAINT ${quoteIdent(key.name)}`,
      }
    : { add: `${table} ADD CONSTRAINT ${quoteIdent(key.name)} ${key.definition}` };
}

/**
 * Adds `keys` on green in one transaction a few hundred at a time: a validated key NOT VALID (no scan;
 * `validateForeignKey` checks it), a key blue never validated as it is (see `foreignKeySql`).
 */
export async function addForeignKeys(green: Client, keys: ReadonlyArray<ForeignKey>): Promise<void> {
  for (let i = 0; i < keys.length; i += 500) {
    try {
      await green.query(
        `BEGIN; ${keys
          .slice(i, i + 500)
          .map((k) => `${foreignKeySql(k).add};`)
          .join(' ')} COMMIT`,
      );
    } catch (error) {
      await green.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}

/** Checks every row of a key added NOT VALID (what ADD CONSTRAINT would have done, under a lighter lock). */
export async function validateForeignKey(green: Client, key: ForeignKey): Promise<void> {
  const { validate } = foreignKeySql(key);
  if (validate) await green.query(validate);
}

/**
 * Up to `size` sessions on `url`, opened as work arrives and kept until `close()`, each set up once
 * (`setup`). Work waits for a free session. A session that cannot connect fails the work waiting.
 */
export function sessionPool(
  url: string,
  size: number,
  options: ConnectOptions & { setup?: string },
): { use<T>(fn: (c: Client) => Promise<T>): Promise<T>; close(): Promise<void> } {
  interface Task {
    fn: (c: Client) => Promise<unknown>;
    resolve: (v: unknown) => void;
    reject: (e: unknown) => void;
  }
  const queue: Task[] = [];
  const sleepers: Array<() => void> = [];
  const workers: Promise<void>[] = [];
  let closed = false;
  let broken: unknown;
  const worker = () =>
    withClient(
      url,
      async (c) => {
        if (options.setup) await c.query(options.setup);
        for (;;) {
          const task = queue.shift();
          if (task) {
            await task.fn(c).then(task.resolve, task.reject);
            continue;
          }
          if (closed) return;
          await new Promise<void>((r) => sleepers.push(r));
        }
      },
      options,
    ).catch((error: unknown) => {
      broken ??= error;
      for (const t of queue.splice(0)) t.reject(error);
    });
  return {
    use<T>(fn: (c: Client) => Promise<T>): Promise<T> {
      if (broken) return Promise.reject(broken);
      const done = new Promise<T>((resolve, reject) => queue.push({ fn, resolve: resolve as (v: unknown) => void, reject }));
      if (sleepers.length) sleepers.shift()!();
      else if (workers.length < size) workers.push(worker());
      return done;
    },
    async close() {
      closed = true;
      for (const wake of sleepers.splice(0)) wake();
      await Promise.all(workers);
    },
  };
}

export interface StreamProgress {
  bytes: number;
  rows: number;
  unitsDone: number;
}

/**
 * Runs every unit with `jobs` pairs of sessions, each blue session inside the exported snapshot.
 * Throws on the first failure (the caller drops what it made); `onProgress` gets the running totals.
 */
export async function streamTables(options: {
  blueUrl: string;
  greenUrl: string;
  snapshot: string;
  units: ReadonlyArray<CopyUnit>;
  jobs: number;
  binary: boolean;
  secrets: ReadonlyArray<string>;
  onProgress?: (p: StreamProgress) => void;
  /** Called once every unit of a table is in (its indexes can be built then). */
  onTableDone?: (schema: string, name: string) => void;
}): Promise<StreamProgress> {
  const progress: StreamProgress = { bytes: 0, rows: 0, unitsDone: 0 };
  const queue = [...options.units];
  const unitsLeft = new Map<string, number>();
  for (const u of options.units) unitsLeft.set(tableKey(u.schema, u.name), (unitsLeft.get(tableKey(u.schema, u.name)) ?? 0) + 1);
  let failed: unknown;
  const worker = () =>
    withClient(
      options.blueUrl,
      (blue) =>
        withClient(
          options.greenUrl,
          async (green) => {
            // Replicate mode: every session reads the slot's exported snapshot. Freeze mode: blue holds still, none is needed.
            // An empty search_path on both sides, as pg_dump and pg_restore run: a name in a value's text form
            // (a regclass) is written qualified on blue and read back as that same object on green.
            await beginInSnapshot(blue, options.snapshot, `SET LOCAL search_path = ''`);
            // A failed copy is redone from scratch by the next clone: the commits need not wait for the disk.
            await green.query(`SET synchronous_commit = off; SET search_path = ''`);
            while (queue.length && !failed) {
              const unit = queue.shift()!;
              // A whole table is emptied and loaded in one transaction, so its rows can be written frozen
              // (COPY FREEZE): no index build, foreign key check or vacuum has to set hint bits on them and
              // write every page a second time; autovacuum finds them all-visible and frozen already.
              const whole = !unit.blocks;
              if (whole) await green.query(`BEGIN; TRUNCATE ONLY ${quoteQualified(unit.schema, unit.name)}`);
              // Blue's CopyData messages go to green as they are: no row is copied out of its message on the way.
              const binary = options.binary && unit.binary;
              const out = new CopyOutRelay(copyOutSql(unit, binary), (bytes) => {
                progress.bytes += bytes;
                // The caller throttles: told on every run of rows, it shows a line a second.
                options.onProgress?.(progress);
              });
              void blue.query(out as unknown as pg.Submittable);
              const copyOptions = [binary ? 'FORMAT binary' : '', whole ? 'FREEZE' : ''].filter(Boolean).join(', ');
              const target = `${quoteQualified(unit.schema, unit.name)} (${unit.columns.map(quoteIdent).join(', ')})`;
              const into = green.query(relayInto(`COPY ${target} FROM STDIN${copyOptions ? ` (${copyOptions})` : ''}`));
              await pipeline(out, into);
              if (whole) await green.query('COMMIT');
              progress.rows += Number((into as unknown as { rowCount?: number }).rowCount ?? 0);
              progress.unitsDone++;
              options.onProgress?.(progress);
              const key = tableKey(unit.schema, unit.name);
              unitsLeft.set(key, unitsLeft.get(key)! - 1);
              if (unitsLeft.get(key) === 0) options.onTableDone?.(unit.schema, unit.name);
            }
            await blue.query('COMMIT');
          },
          { label: 'green', secrets: options.secrets, applicationName: 'bluegreen clone (stream)' },
        ),
      { label: 'blue', secrets: options.secrets, applicationName: 'bluegreen clone (stream)' },
    ).catch((error: unknown) => {
      failed ??= error;
    });
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.jobs, options.units.length)) }, worker));
  if (failed) throw failed;
  return progress;
}
