/**
 * The effect check's scratch database: a copy of green's schema (and of the migration tool's own
 * bookkeeping, so the tool applies exactly what it would on green) on green's server, with a
 * statement-level trigger on every existing table recording data changes. The migrations run there
 * first; the schema before and after each run is read; the database is dropped on every path.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withDatabase } from '../core/conninfo.js';
import type { DataChange } from '../core/migration-effect.js';
import { quoteIdent, quoteLiteral, quoteQualified } from '../core/quote.js';
import type { SchemaSnapshot } from '../core/schema-diff.js';
import { readSchema } from './catalog/schema-snapshot.js';
import { listTables } from './catalog/tables.js';
import { createDatabaseLike, readDatabaseProps } from './database.js';
import { type Client, serverMajor, withClient, withTransaction } from './pg.js';
import { runPgTool } from './pg-tools.js';
import { findTool } from './pg-binaries.js';
import { disableSubscription, enableSubscription } from './replication.js';

/** Where migration tools keep what they applied (schema-qualified as format('%I.%I') writes them). */
export const KNOWN_HISTORY_TABLES: ReadonlyArray<string> = [
  'bluegreen.migrations',
  'public.pgmigrations',
  'public.schema_migrations',
  'public.flyway_schema_history',
  'public.alembic_version',
  'public.knex_migrations',
  'public.knex_migrations_lock',
  'public._prisma_migrations',
  'public.databasechangelog',
  'public.databasechangeloglock',
  'public."SequelizeMeta"',
  'public.goose_db_version',
  'public.__diesel_schema_migrations',
  'public.schema_version',
  'public.migrations',
];

const DETECTOR = 'bluegreen_effect';

export interface ScratchOptions {
  readonly greenUrl: string;
  readonly binDir?: string;
  readonly secrets: ReadonlyArray<string>;
  /** More bookkeeping tables to copy with their rows (the config's migrations.historyTables). */
  readonly historyTables?: ReadonlyArray<string>;
}

export interface ScratchRun {
  /** The scratch database's URL (green's server, credentials and options). */
  readonly url: string;
  /** Green's schema as it is (the scratch copy before anything ran). */
  readonly original: SchemaSnapshot;
  /** The schema now, and the data changes since the last checkpoint. */
  checkpoint(): Promise<{ schema: SchemaSnapshot; dataChanges: DataChange[] }>;
  /** The tables the copy took with their rows (bookkeeping): not the application's. */
  readonly historyTables: ReadonlySet<string>;
}

/** Our detector triggers are not part of what the migrations did. */
function withoutDetectors(schema: SchemaSnapshot): SchemaSnapshot {
  return Object.fromEntries(Object.entries(schema).filter(([k]) => !(k.startsWith('trigger ') && k.includes(DETECTOR))));
}

async function installDetectors(client: Client, skip: ReadonlySet<string>): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS bluegreen;
    CREATE TABLE bluegreen.effect_dml (operation text NOT NULL, tbl text NOT NULL, query text);
    CREATE FUNCTION bluegreen.effect_record() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      INSERT INTO bluegreen.effect_dml VALUES (TG_OP, format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME), current_query());
      RETURN NULL;
    END $fn$`);
  for (const t of await listTables(client)) {
    const key = (await client.query<{ k: string }>(`SELECT format('%I.%I', $1::text, $2::text) AS k`, [t.schema, t.name])).rows[0].k;
    if (skip.has(key)) continue;
    const rel = quoteQualified(t.schema, t.name);
    // Statement-level, so it fires on the copy's empty tables too; it keeps the statement, so an UPDATE
    // that only backfills a column the migrations added can be told from one that changes blue's data.
    // (Not UPDATE OF columns: that would make the trigger depend on them and refuse a DROP COLUMN.)
    await client.query(
      `CREATE TRIGGER ${quoteIdent(`${DETECTOR}_write`)} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${rel}
         FOR EACH STATEMENT EXECUTE FUNCTION bluegreen.effect_record()`,
    );
  }
}

/**
 * Makes the scratch copy, runs `run` against it, and drops it whatever happens. `run`'s error, if
 * any, is rethrown after the drop.
 */
export async function withScratchCopy<T>(options: ScratchOptions, run: (scratch: ScratchRun) => Promise<T>): Promise<T> {
  const name = `bluegreen_scratch_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = withDatabase(options.greenUrl, 'postgres');
  const url = withDatabase(options.greenUrl, name);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bluegreen-scratch-'));
  const label = { label: 'green (scratch copy)', secrets: options.secrets, applicationName: 'bluegreen effect-check' };
  try {
    const { major, props, history } = await withClient(
      options.greenUrl,
      async (green) => {
        const wanted = [...KNOWN_HISTORY_TABLES, ...(options.historyTables ?? [])];
        const present = (
          await green.query<{ t: string }>(`SELECT t FROM unnest($1::text[]) t WHERE to_regclass(t) IS NOT NULL`, [wanted])
        ).rows.map((r) => r.t);
        return { major: await serverMajor(green), props: await readDatabaseProps(green), history: present };
      },
      label,
    );
    const tool = { serverMajor: major, binDir: options.binDir, secrets: options.secrets };
    let dumpable = true;
    try {
      findTool('pg_dump', major, options.binDir);
    } catch {
      dumpable = false;
    }
    if (dumpable) {
      await withClient(admin, (c) => createDatabaseLike(c, name, props, true), label);
      await runPgTool({
        ...tool,
        tool: 'pg_dump',
        args: ['--schema-only', '--no-publications', '--no-subscriptions', '--format=custom', `--file=${path.join(dir, 'schema.dump')}`],
        url: options.greenUrl,
      });
      await runPgTool({
        ...tool,
        tool: 'pg_restore',
        args: ['--exit-on-error', '--no-subscriptions', '--no-publications', `--dbname=${name}`, path.join(dir, 'schema.dump')],
        url,
      });
    } else {
      // No pg_dump for a server this new (Debian 12 ships 15): the copy is the database itself, made
      // from it as a template, rows included. A template must have no other session: green's apply
      // workers are stopped for the copy (their slots keep every write) and started again after.
      await copyAsTemplate(options, admin, name, label);
    }
    if (dumpable && history.length) {
      await runPgTool({
        ...tool,
        tool: 'pg_dump',
        args: ['--data-only', '--format=custom', ...history.map((t) => `--table=${t}`), `--file=${path.join(dir, 'history.dump')}`],
        url: options.greenUrl,
      });
      await runPgTool({
        ...tool,
        tool: 'pg_restore',
        args: ['--exit-on-error', '--disable-triggers', `--dbname=${name}`, path.join(dir, 'history.dump')],
        url,
      });
    }
    return await withClient(
      url,
      async (scratch) => {
        // The copy takes green's event triggers (the freeze's DDL guard, the DDL log): not wanted here.
        await scratch
          .query(
            `DROP EVENT TRIGGER IF EXISTS bluegreen_ddl_guard; DROP EVENT TRIGGER IF EXISTS bluegreen_ddl_log_end;
             DROP EVENT TRIGGER IF EXISTS bluegreen_ddl_log_drop;
        UPDATE bluegreen.write_guard SET frozen = false`,
          )
          .catch(() => undefined);
        const historyTables = new Set(
          (
            await scratch.query<{ k: string }>(
              `SELECT format('%I.%I', n.nspname, c.relname) AS k FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.oid = ANY (SELECT to_regclass(t) FROM unnest($1::text[]) t)`,
              [history],
            )
          ).rows.map((r) => r.k),
        );
        const original = await readSchema(scratch);
        await installDetectors(scratch, historyTables);
        return run({
          url,
          original,
          historyTables,
          checkpoint: async () => {
            const rows = (
              await scratch.query<{ operation: string; tbl: string; query: string | null }>(
                `DELETE FROM bluegreen.effect_dml RETURNING operation, tbl, query`,
              )
            ).rows;
            return {
              schema: withoutDetectors(await readSchema(scratch)),
              dataChanges: rows.map((r) => ({ table: r.tbl, operation: r.operation, statement: r.query ?? undefined })),
            };
          },
        });
      },
      label,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await withClient(admin, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`), label).catch(() => undefined);
  }
}

/**
 * Drops every scratch copy left on green's server and re-enables the subscriptions an effect check
 * disabled for its copy (a controller killed during the effect check, which resume calls this for).
 * Returns how many copies it dropped.
 */
export async function dropScratchCopies(options: Pick<ScratchOptions, 'greenUrl' | 'secrets'>): Promise<number> {
  const label = { label: 'green', secrets: options.secrets };
  await withClient(options.greenUrl, reenableDisabledByUs, label);
  return withClient(
    withDatabase(options.greenUrl, 'postgres'),
    async (admin) => {
      const { rows } = await admin.query<{ d: string }>(
        `SELECT datname AS d FROM pg_database WHERE datname LIKE 'bluegreen\\_scratch\\_%'`,
      );
      for (const r of rows) await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(r.d)} WITH (FORCE)`);
      return rows.length;
    },
    label,
  );
}

/**
 * The mark an effect check leaves on a subscription it disabled: a comment, written in the same
 * transaction as the DISABLE, so no moment exists where one is true without the other (a record kept
 * elsewhere, the state file, would leave such a moment between the two writes).
 */
const DISABLED_MARK = 'pg-bluegreen: disabled by the effect check while it copies green';

/** Subscriptions of green's database our effect check disabled: enabled again, the mark removed. */
export async function reenableDisabledByUs(green: Client): Promise<string[]> {
  const { rows } = await green.query<{ s: string }>(
    // A subscription's comment lives in its database's pg_description (PostgreSQL keeps only databases',
    // tablespaces' and roles' comments in the shared catalog).
    `SELECT subname AS s FROM pg_subscription
      WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND obj_description(oid, 'pg_subscription') = $1`,
    [DISABLED_MARK],
  );
  for (const r of rows) {
    await withTransaction(green, async () => {
      await enableSubscription(green, r.s);
      await green.query(`COMMENT ON SUBSCRIPTION ${quoteIdent(r.s)} IS NULL`);
    });
  }
  return rows.map((r) => r.s);
}

/** Disables green's enabled subscriptions, each marked as ours in the same transaction; returns their names. */
async function disableMarked(green: Client): Promise<string[]> {
  const subscriptions = (
    await green.query<{ s: string }>(
      `SELECT subname AS s FROM pg_subscription
        WHERE subenabled AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    )
  ).rows.map((r) => r.s);
  for (const s of subscriptions) {
    await withTransaction(green, async () => {
      await green.query(`COMMENT ON SUBSCRIPTION ${quoteIdent(s)} IS ${quoteLiteral(DISABLED_MARK)}`);
      await green.query(`ALTER SUBSCRIPTION ${quoteIdent(s)} DISABLE`);
    });
    // Committed: now wait for its apply worker to stop (the template copy needs it gone).
    await disableSubscription(green, s);
  }
  return subscriptions;
}

/** CREATE DATABASE … TEMPLATE green's database, with green's subscriptions disabled for the moment of the copy. */
async function copyAsTemplate(
  options: ScratchOptions,
  admin: string,
  name: string,
  label: { label: string; secrets: ReadonlyArray<string>; applicationName: string },
): Promise<void> {
  const source = await withClient(
    options.greenUrl,
    async (g) => (await g.query<{ d: string }>('SELECT current_database() AS d')).rows[0].d,
    label,
  );
  // Marked before anything else can happen: a controller killed from here on leaves the mark, and
  // resume (dropScratchCopies) enables what carries it.
  await withClient(options.greenUrl, disableMarked, label);
  try {
    await withClient(
      admin,
      async (c) => {
        for (let attempt = 0; ; attempt++) {
          try {
            await c.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(source)}`);
            return;
          } catch (error) {
            // A session still closing, or an apply worker still stopping, holds the template for a moment.
            if (attempt >= 20 || !/being accessed by other users/.test((error as Error).message)) throw error;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      },
      label,
    );
  } finally {
    await withClient(options.greenUrl, reenableDisabledByUs, label);
  }
}
