/**
 * `bluegreen clone`: blue → green from one consistent snapshot, roles included.
 *
 * Freeze mode: blue stops taking application writes before the snapshot and stays frozen until the
 * switchover or an abort; the dump (kept as the pre-migration backup, checked readable, its path
 * recorded) is the whole truth. Replicate mode: blue stays open; the snapshot is the one a logical
 * slot exports, so replication continues exactly where the copy ends; by default the rows stream
 * from that snapshot straight into green (clone.backup "none") and only the schema is dumped.
 */
import { readdirSync, readFileSync, statSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { withDatabase } from '../core/conninfo.js';
import { displayName } from '../core/quote.js';
import { BlueGreenError } from '../core/errors.js';
import { advance, newCutover, type CutoverState } from '../core/state.js';
import type { Report } from '../core/report.js';
import { forNonSuperuser, parseRolesScript, planRoles } from '../core/roles.js';
import { rolePasswords, setRolePasswords } from '../adapters/role-passwords.js';
import { materializedViews, refreshMaterializedViews } from '../adapters/catalog/materialized-views.js';
import { readSchema } from '../adapters/catalog/schema-snapshot.js';
import { syncSequences } from '../adapters/catalog/sequences.js';
import { listTables } from '../adapters/catalog/tables.js';
import {
  applyRoleStatements,
  createDatabaseLike,
  databaseExists,
  readDatabaseProps,
  roleNames,
  updateExtensions,
} from '../adapters/database.js';
import { type Client, serverMajor, withClient } from '../adapters/pg.js';
import { runPgTool } from '../adapters/pg-tools.js';
import { ensurePrivateDir, schemaFile, writeFileAtomic } from '../adapters/state-store.js';
import { applyDatabaseLevel, readDatabaseLevel } from '../adapters/database-level.js';
import { installDdlLog, isDdlLogTocLine } from '../adapters/ddl-log.js';
import { allowOwnWrites, freezeWrites, installWriteGuard, isGuardTocLine, unfreezeWrites } from '../adapters/write-guard.js';
import { conn, controlled, type Deps, loadState, newCutoverId } from './context.js';
import { assertFactsNotBlocked, gatherFacts, greenResettable, recordGreenReCreated } from './preflight.js';
import { planOnly, runSteps, type Step } from './steps.js';
import { targetOf } from '../adapters/pointer.js';
import {
  createPublication,
  createSlotWithSnapshot,
  createSubscription,
  dropPublication,
  dropSlot,
  dropSubscription,
  replicationNames,
  slotLag,
} from '../adapters/replication.js';
import { ensureHeartbeat } from '../adapters/heartbeat.js';
import {
  addForeignKeys,
  type CopyUnit,
  foreignKeys,
  planCopy,
  sessionPool,
  streamTables,
  tableObjects,
  validateForeignKey,
} from '../adapters/stream-copy.js';
import { type PostDataRunner, postDataRunner } from './post-data-runner.js';
import { cloneLargeObjects } from './flip-large-objects.js';
import {
  describesAnObject,
  groupPostData,
  isForeignKeyLeftToRestore,
  keysFirst,
  listWith,
  splitForeignKeys,
  tableKey,
} from '../core/post-data.js';

export interface CloneOptions {
  readonly dryRun?: boolean;
  readonly acceptDataLoss?: boolean; // re-create green although it holds the only copy of what a rollback gave up
  /** Parallel jobs for pg_dump and pg_restore (default: 2, measured best on a 2-core machine). */
  readonly jobs?: number;
}

export interface CloneResult extends Report {
  readonly cutover: string;
  readonly dump?: CutoverState['dump'];
}

const dirBytes = (dir: string): number => readdirSync(dir).reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);

/** How the rows travelled: binary between equal majors, except the tables whose types only blue reads in binary. */
function formatOf(units: ReadonlyArray<CopyUnit>, sameMajor: boolean): string {
  if (!sameMajor) return 'text';
  const inText = [...new Set(units.filter((u) => !u.binary).map((u) => displayName(u.schema, u.name)))];
  if (!inText.length) return 'binary';
  const named = inText.length > 5 ? `${inText.slice(0, 5).join(', ')} and ${inText.length - 5} more` : inText.join(', ');
  return `binary; in text: ${named} (a reg* or extension type)`;
}

/**
 * The clone's steps; `release` closes the replication connection, `settle` waits for post-data work
 * still running after a failure (so nothing of ours holds green when the failure is handled).
 */
function cloneSteps(
  deps: Deps,
  state: () => CutoverState,
  update: (c: Partial<CutoverState>) => Promise<void>,
  options: CloneOptions,
  resetGreen: boolean,
): { steps: Step[]; release(): Promise<void>; settle(): Promise<void> } {
  const { config, progress } = deps;
  const jobs = String(options.jobs ?? 2);
  let replication: Awaited<ReturnType<typeof createSlotWithSnapshot>> | undefined;
  const database = targetOf(config.green).database;
  const greenAdmin = withDatabase(config.green, 'postgres');
  let blueMajor = 0;
  let tableCount = 0;
  const dumpPath = () => path.join(config.dumpDir, state().id);
  const onBlue = <T>(fn: (c: Client) => Promise<T>) => withClient(config.blue, fn, conn(deps, 'blue', 'clone'));
  const onGreen = <T>(fn: (c: Client) => Promise<T>, url = config.green) => withClient(url, fn, conn(deps, 'green', 'clone'));
  const release = async () => {
    await replication?.close();
    replication = undefined;
  };
  const streaming = config.clone.backup === 'none';
  /** The streaming clone's post-data work, from the first table whose rows are in to the last foreign key (see post-data-runner.ts). */
  let postData: PostDataRunner | undefined;
  /** Sessions on green for the foreign keys: one more than the checks at a time, so an add never waits behind a check. */
  let keySessions: ReturnType<typeof sessionPool> | undefined;
  /** The whole dump kept on the controller's disk: the pre-migration backup (clone.backup "dump"). */
  const dumpSteps = (): Step[] => [
    {
      name: 'dump',
      title: `Dumping blue (${jobs} jobs)`,
      run: async () => {
        ensurePrivateDir(config.dumpDir);
        rmSync(dumpPath(), { recursive: true, force: true });
        let done = 0;
        await runPgTool({
          tool: 'pg_dump',
          args: [
            '--format=directory',
            `--jobs=${jobs}`,
            '--compress=0',
            '--no-publications',
            '--no-subscriptions',
            '--verbose',
            `--file=${dumpPath()}`,
            ...(replication ? [`--snapshot=${replication.snapshot}`] : []),
          ],
          url: config.blue,
          serverMajor: blueMajor,
          binDir: config.binDir,
          secrets: config.secrets,
          onStderrLine: (line) => {
            if (/finished item \d+ TABLE DATA/.test(line)) progress.update(`Dumping blue: ${++done}/${tableCount} tables`);
          },
        });
        await release();
        const bytes = dirBytes(dumpPath());
        await update({ dump: { path: dumpPath(), format: 'directory', bytes, tocEntries: 0 } });
        return `${(bytes / 1024 / 1024).toFixed(1)} MB in ${dumpPath()}`;
      },
    },
    {
      name: 'verify-dump',
      title: 'Checking the dump is readable (pg_restore --list)',
      run: async () => {
        const toc = await runPgTool({
          tool: 'pg_restore',
          args: ['--list', dumpPath()],
          url: config.blue,
          serverMajor: blueMajor,
          binDir: config.binDir,
          secrets: config.secrets,
        });
        const entries = toc.split('\n').filter((l) => /^\d+;/.test(l));
        if (entries.length === 0)
          throw new BlueGreenError(`the dump in ${dumpPath()} lists no entries`, {
            hint: 'The dump is unusable; check the disk and run clone again.',
          });
        // The guard belongs to blue's freeze and the DDL log to blue's history: left out so green never inherits them.
        writeFileSync(
          path.join(dumpPath(), 'restore.list'),
          toc
            .split('\n')
            .map((l) => (isGuardTocLine(l) || isDdlLogTocLine(l) ? `;${l}` : l))
            .join('\n'),
          { mode: 0o600 },
        );
        await update({ dump: { ...state().dump!, tocEntries: entries.length } });
        return `${entries.length} entries`;
      },
    },
    {
      name: 'restore',
      title: `Restoring into green (${jobs} jobs)`,
      run: async () => {
        let done = 0;
        await runPgTool({
          tool: 'pg_restore',
          args: [
            '--exit-on-error',
            `--jobs=${jobs}`,
            '--verbose',
            `--use-list=${path.join(dumpPath(), 'restore.list')}`,
            `--dbname=${database}`,
            dumpPath(),
          ],
          // A failed restore is redone from scratch, so its commits need not wait for the disk. Index builds
          // keep green's own maintenance_work_mem (BENCHMARKS.md, "maintenance_work_mem for the post-data").
          sessionOptions: '-c synchronous_commit=off',
          url: config.green,
          serverMajor: blueMajor,
          binDir: config.binDir,
          secrets: config.secrets,
          onStderrLine: (line) => {
            if (/finished item \d+ TABLE DATA/.test(line)) progress.update(`Restoring into green: ${++done}/${tableCount} tables`);
          },
        });
        return `${tableCount} tables`;
      },
    },
  ];
  /**
   * clone.backup "none": only the schema is dumped (a small file); the rows stream from blue's exported
   * snapshot straight into green, several tables (and block ranges of large ones) at once; indexes and
   * constraints are built after the data. Blue itself, kept intact by the cutover, is the fallback.
   */
  const streamingSteps = (): Step[] => {
    const schemaFile = () => path.join(dumpPath(), 'schema.dump');
    const restoreSection = (section: 'pre-data' | 'post-data', list = 'restore.list', parallel = section === 'post-data') =>
      runPgTool({
        tool: 'pg_restore',
        args: [
          '--exit-on-error',
          `--section=${section}`,
          ...(parallel ? [`--jobs=${jobs}`] : []),
          `--use-list=${path.join(dumpPath(), list)}`,
          `--dbname=${database}`,
          schemaFile(),
        ],
        sessionOptions: '-c synchronous_commit=off',
        url: config.green,
        serverMajor: blueMajor,
        binDir: config.binDir,
        secrets: config.secrets,
      });
    const startPostData = async (units: ReadonlyArray<CopyUnit>): Promise<PostDataRunner> => {
      const lines = readFileSync(path.join(dumpPath(), 'restore.list'), 'utf8').split('\n');
      const active = lines.filter((l) => /^\d+;/.test(l));
      const { byTable } = groupPostData(active, await onBlue(tableObjects));
      // Worth building as soon as its rows are in: tables of at least 32 MB and 2% of the rows to stream.
      const bytes = new Map<string, number>();
      for (const u of units) bytes.set(tableKey(u.schema, u.name), (bytes.get(tableKey(u.schema, u.name)) ?? 0) + u.bytes);
      const total = [...bytes.values()].reduce((a, b) => a + b, 0);
      const early = new Map<string, { keys: string[]; indexes: string[] }>();
      for (const [table, items] of byTable) {
        if ((bytes.get(table) ?? 0) < Math.max(32 * 1048576, total / 50)) continue;
        early.set(table, keysFirst(items));
      }
      // The foreign keys as the streamed rows see them (inside the snapshot).
      const { foreignKeys: keys } = splitForeignKeys(active, await onBlue((b) => foreignKeys(b, replication?.snapshot ?? '')));
      keySessions = sessionPool(config.green, Number(jobs) + 1, {
        label: 'green',
        secrets: config.secrets,
        applicationName: 'bluegreen clone (foreign keys)',
        // As the restore's sessions: a failed clone is redone from scratch. A check is a hash anti-join
        // that PostgreSQL runs with work_mem = maintenance_work_mem; once the referenced keys outgrow it,
        // it spills in batches whatever the size, and a batch that fits the CPU's cache is probed about
        // twice as fast as a larger one (16 MB against 256 MB: BENCHMARKS.md, "maintenance_work_mem for
        // the post-data").
        setup: `SET synchronous_commit = off; SET maintenance_work_mem = '16MB'`,
      });
      const sessions = keySessions;
      let n = 0;
      return postDataRunner(
        // After the rest: foreign keys pg_restore adds (once partitioned keys are whole), then comments (they may name a key).
        {
          lines: active,
          early,
          foreignKeys: keys,
          afterKeys: active.filter((l) => isForeignKeyLeftToRestore(l, keys) || describesAnObject(l)),
          jobs: Number(jobs),
        },
        {
          restore: async (items, parallel) => {
            const list = `restore-post-data-${++n}.list`;
            writeFileSync(path.join(dumpPath(), list), listWith(lines, new Set(items)), { mode: 0o600 });
            await restoreSection('post-data', list, parallel);
          },
          addKeys: (batch) => sessions.use((green) => addForeignKeys(green, batch)),
          validate: (key) => sessions.use((green) => validateForeignKey(green, key)),
        },
      );
    };
    return [
      {
        name: 'dump-schema',
        title: "Dumping blue's schema (the rows stream straight to green)",
        run: async () => {
          ensurePrivateDir(config.dumpDir);
          rmSync(dumpPath(), { recursive: true, force: true });
          ensurePrivateDir(dumpPath());
          await runPgTool({
            tool: 'pg_dump',
            args: [
              '--schema-only',
              '--format=custom',
              '--no-publications',
              '--no-subscriptions',
              `--file=${schemaFile()}`,
              ...(replication ? [`--snapshot=${replication.snapshot}`] : []),
            ],
            url: config.blue,
            serverMajor: blueMajor,
            binDir: config.binDir,
            secrets: config.secrets,
          });
          const toc = await runPgTool({
            tool: 'pg_restore',
            args: ['--list', schemaFile()],
            url: config.blue,
            serverMajor: blueMajor,
            binDir: config.binDir,
            secrets: config.secrets,
          });
          writeFileSync(
            path.join(dumpPath(), 'restore.list'),
            toc
              .split('\n')
              .map((l) => (isGuardTocLine(l) || isDdlLogTocLine(l) ? `;${l}` : l))
              .join('\n'),
            { mode: 0o600 },
          );
          const bytes = dirBytes(dumpPath());
          await update({
            dump: { path: dumpPath(), format: 'schema only', bytes, tocEntries: toc.split('\n').filter((l) => /^\d+;/.test(l)).length },
          });
          return `${(bytes / 1024).toFixed(0)} kB of schema in ${dumpPath()}; no rows on this disk`;
        },
      },
      {
        name: 'restore-schema',
        title: 'Creating the tables on green',
        run: async () => {
          await restoreSection('pre-data');
          return `${tableCount} tables`;
        },
      },
      {
        name: 'stream-data',
        title: `Streaming blue's rows into green (${jobs} at once)`,
        run: async () => {
          const greenMajor = await onGreen(serverMajor);
          const units = await onBlue((b) => planCopy(b, Number(jobs)));
          const total = units.reduce((n, u) => n + u.bytes, 0);
          const start = performance.now();
          let lastShown = 0;
          // What the slot makes blue keep while the rows stream: read every two seconds for the progress line.
          let retainedNow: number | undefined;
          const slot = state().forward?.slot;
          const watchWal = slot
            ? setInterval(
                () =>
                  void onBlue((b) => slotLag(b, slot)).then(
                    (l) => (retainedNow = l.retainedBytes),
                    () => undefined,
                  ),
                2000,
              )
            : undefined;
          // A large table's indexes and keys are built as soon as its rows are in, beside the others' rows
          // (one build at a time: the streams keep the rest of the CPU); what is left, after.
          const post = (postData = await startPostData(units));
          const result = await streamTables({
            blueUrl: config.blue,
            greenUrl: config.green,
            snapshot: replication?.snapshot ?? '',
            units,
            jobs: Number(jobs),
            binary: greenMajor === blueMajor,
            secrets: config.secrets,
            onTableDone: (schema, name) => post.tableDone(tableKey(schema, name)),
            onProgress: (p) => {
              if (performance.now() - lastShown < 1000 && p.unitsDone < units.length) return;
              lastShown = performance.now();
              const seconds = (performance.now() - start) / 1000;
              const rate = p.bytes / Math.max(seconds, 0.001);
              const left = total > p.bytes ? (total - p.bytes) / Math.max(rate, 1) : 0;
              progress.update(
                `Streaming: ${(p.bytes / 1048576).toFixed(0)} MB, ${p.rows} rows, ${(rate / 1048576).toFixed(1)} MB/s, about ${Math.round(left)} s left (${p.unitsDone}/${units.length} parts)${retainedNow !== undefined ? `; blue keeps ${(retainedNow / 1048576).toFixed(0)} MB of WAL for the slot` : ''}`,
              );
            },
          })
            // A failed stream: the runner's work is waited for by `settle`, before the failure is handled.
            .finally(() => clearInterval(watchWal));
          // The rest of the indexes and constraints start now, beside the large table still being built.
          post.streamsDone();
          await release();
          // Sequences are not in a schema-only dump's data: at least blue's values now (ahead of the snapshot's, which is safe).
          await withClient(
            config.blue,
            (b) => withClient(config.green, (g) => syncSequences(b, g), conn(deps, 'green', 'clone')),
            conn(deps, 'blue', 'clone'),
          );
          const seconds = (performance.now() - start) / 1000;
          const retained = state().forward ? (await onBlue((b) => slotLag(b, state().forward!.slot))).retainedBytes : undefined;
          return `${result.rows} rows, ${(result.bytes / 1048576).toFixed(1)} MB in ${seconds.toFixed(1)} s (${(result.bytes / 1048576 / Math.max(seconds, 0.001)).toFixed(1)} MB/s, ${formatOf(units, greenMajor === blueMajor)}, ${units.length} parts)${retained !== undefined ? `; WAL kept on blue for the slot meanwhile: ${(retained / 1048576).toFixed(1)} MB` : ''}`;
        },
      },
      {
        name: 'restore-indexes',
        title: `Building indexes and constraints on green (${jobs} jobs)`,
        run: async () => {
          progress.update('Building indexes and constraints on green; then checking foreign keys');
          const done = await postData!.finish().finally(() => keySessions?.close());
          // A schema-only dump leaves materialized views empty (their rows are "data"): filled from green's
          // own tables, each after those it reads; one blue has not populated stays unpopulated, as pg_restore leaves it.
          const onBlueSide = new Map([...(await onBlue(materializedViews))].map(([key, v]) => [key, v.populated]));
          const views = await onGreen((green) => refreshMaterializedViews(green, onBlueSide));
          const empty = onBlueSide.size - views.length;
          return `indexes, constraints, triggers${done.earlyTables ? ` (those of ${done.earlyTables} large table${done.earlyTables > 1 ? 's' : ''} built as their rows landed)` : ''}; ${done.keysAdded} foreign key${done.keysAdded === 1 ? '' : 's'} added, ${done.keysChecked} checked beside the other work${views.length ? `; ${views.length} materialized view${views.length > 1 ? 's' : ''} filled` : ''}${empty > 0 ? `; ${empty} left unpopulated as on blue` : ''}`;
        },
      },
    ];
  };
  const steps: Step[] = [
    {
      name: 'freeze-blue',
      title: config.mode === 'freeze' ? 'Freezing writes on blue (reads go on)' : 'Installing the write guard on blue',
      run: async () =>
        onBlue(async (blue) => {
          blueMajor = await serverMajor(blue);
          tableCount = (await listTables(blue)).length;
          if (config.mode !== 'freeze') {
            // Blue is live: creating the guard's triggers must not queue behind a long transaction and stall writers.
            const guarded = await installWriteGuard(blue, { lockTimeout: '5s' });
            await ensureHeartbeat(blue);
            return `guard installed on ${guarded} tables, not frozen: blue takes writes throughout`;
          }
          const ended = await freezeWrites(blue, `clone ${state().id} in freeze mode`);
          await update({ blueFrozen: true });
          return `application writes now refused${ended ? `; ended ${ended} open transaction${ended > 1 ? 's' : ''}` : ''}`;
        }),
    },
    {
      name: 'copy-roles',
      title: 'Copying roles to green',
      run: async () => {
        // Without a superuser (the privilege plan): pg_roles instead of pg_authid, passwords from the operator.
        const copy = state().privileges?.roleCopy ?? { passwords: 'from-blue', superuserAttributes: true };
        if (copy.requiredOnGreen) return { skipped: 'roles.requireOnGreen: every role is on green already (checked by preflight)' };
        const args = ['--roles-only', ...(copy.passwords === 'from-operator' ? ['--no-role-passwords'] : [])];
        const script = await runPgTool({
          tool: 'pg_dumpall',
          args,
          url: withDatabase(config.blue, 'postgres'),
          serverMajor: blueMajor,
          binDir: config.binDir,
          secrets: config.secrets,
        });
        return onGreen(async (green) => {
          const plan = planRoles(parseRolesScript(script), await roleNames(green));
          const adapted = copy.superuserAttributes ? { statements: [...plan.statements], dropped: [] } : forNonSuperuser(plan.statements);
          const { grantsSkipped } = await applyRoleStatements(green, adapted.statements);
          const passwords =
            copy.passwords === 'from-operator' ? await setRolePasswords(green, plan.create, rolePasswords(config.roles)) : undefined;
          return `${plan.create.length} created${plan.skip.length ? `, ${plan.skip.length} already there` : ''}${grantsSkipped ? `, ${grantsSkipped} grants skipped` : ''}${passwords !== undefined ? `, ${passwords} passwords from the operator` : ''}${adapted.dropped.length ? `; left out (superuser only): ${adapted.dropped.map((d) => `${d.role} ${d.attribute}`).join(', ')}` : ''}`;
        }, greenAdmin);
      },
    },
    {
      name: 'create-green-database',
      title: `Preparing green's database "${database}"`,
      run: async () => {
        const props = await onBlue(readDatabaseProps);
        return onGreen(async (green) => {
          const exists = await databaseExists(green, database);
          if (exists && !resetGreen) {
            await update({ greenDatabaseCreated: true });
            return 'using the existing empty database';
          }
          await createDatabaseLike(green, database, props, exists);
          await update({ greenDatabaseCreated: true });
          return `${exists ? 're-created (left from an earlier cutover)' : 'created'}, owner ${props.owner}, ${props.encoding}`;
        }, greenAdmin);
      },
    },
    {
      name: 'create-publication',
      title: "Publishing blue's tables for logical replication",
      run: async () => {
        if (config.mode !== 'replicate') return { skipped: 'freeze mode: blue is frozen, nothing to replicate' };
        const names = replicationNames(state().id, 'fwd');
        return onBlue(async (blue) => {
          // PostgreSQL cannot publish an unlogged table: its rows are copied by the clone and not replicated after it.
          const all = await listTables(blue);
          const tables = all.filter((t) => !t.unlogged);
          await createPublication(blue, names.publication, tables);
          await update({ forward: names });
          const unlogged = all.length - tables.length;
          return `${names.publication}: ${tables.length} tables${unlogged ? `; ${unlogged} unlogged left out (rows copied by the clone, not replicated after it)` : ''}`;
        });
      },
    },
    {
      name: 'create-slot',
      title: 'Creating the replication slot and exporting its snapshot',
      run: async () => {
        if (config.mode !== 'replicate') return { skipped: 'freeze mode' };
        // Held open until the dump has read the snapshot: green then gets every later write exactly once.
        replication = await createSlotWithSnapshot(config.blue, state().forward!.slot, 'blue', config.secrets);
        return `${state().forward!.slot} at ${replication.lsn}, snapshot ${replication.snapshot}`;
      },
    },
    {
      name: 'copy-large-objects',
      title: "Copying blue's large objects (logical replication and a schema-only dump carry none)",
      // Under the slot's snapshot, before any reader ends it; a database-level object, so no schema needed yet.
      run: () => onBlue((blue) => onGreen((green) => cloneLargeObjects(blue, green, config, state().id, replication?.snapshot, streaming))),
    },
    ...(streaming ? streamingSteps() : dumpSteps()),
    {
      name: 'update-extensions',
      title: "Updating green's extensions to the versions its server offers",
      run: async () => {
        // A major upgrade's green offers newer extension versions than the dump installed.
        const moved = await onGreen(updateExtensions);
        return moved.length ? moved.join(', ') : { skipped: 'every extension is at the version green offers' };
      },
    },
    {
      name: 'copy-database-settings',
      title: 'Copying database settings, grants and comment to green',
      run: async () => {
        // pg_dump without --create leaves out what belongs to the database itself.
        const level = await onBlue(readDatabaseLevel);
        const { applied, skipped } = await onGreen((green) => applyDatabaseLevel(green, level));
        if (!applied && !skipped.length) return { skipped: 'blue has no database-level settings, grants or comment' };
        return `${applied} applied${skipped.length ? `; skipped: ${skipped.join(', ')}` : ''}`;
      },
    },
    {
      name: 'freeze-green',
      title: 'Guarding green against application writes until the switchover',
      run: async () => {
        // Each side records its own schema changes from here on: status shows them during the window.
        await onBlue(installDdlLog);
        return onGreen(async (green) => {
          await freezeWrites(green, 'green before switchover');
          await allowOwnWrites(green);
          await installDdlLog(green);
          writeFileAtomic(schemaFile(config.stateDir, state().id, 'at-clone'), JSON.stringify(await readSchema(green)));
          return 'schema recorded for compare; DDL logged on both sides';
        });
      },
    },
    {
      name: 'subscribe-green',
      title: "Subscribing green to blue's changes since the snapshot",
      run: async () => {
        if (config.mode !== 'replicate') return { skipped: 'freeze mode' };
        await onGreen((green) => createSubscription(green, state().forward!, config.addresses.blue.peer));
        return `${state().forward!.subscription}: green now follows blue's writes`;
      },
    },
  ];
  const settle = async () => {
    await postData?.stop();
    await keySessions?.close();
  };
  return { steps, release, settle };
}

/** Drops the blue → green replication objects of a cutover, wherever they got to. Returns a note for the message. */
export async function dropForwardReplication(deps: Deps, state: CutoverState): Promise<string> {
  return (await dropForwardLink(deps, state.forward)).note;
}

/**
 * As dropForwardReplication, saying whether anything is left: `left` is true when a drop failed, and
 * the caller must then keep the names in the record (abort and the next clone drop them by those names).
 */
export async function dropForwardLink(deps: Deps, names: CutoverState['forward']): Promise<{ note: string; left: boolean }> {
  if (!names) return { note: '', left: false };
  const notes: string[] = [];
  await withClient(deps.config.green, (g) => dropSubscription(g, names.subscription), conn(deps, 'green', 'cleanup')).catch(
    (error: Error) => {
      if (!/does not exist/.test(error.message)) notes.push(`subscription ${names.subscription} on green: ${error.message.split('\n')[0]}`);
    },
  );
  await withClient(
    deps.config.blue,
    async (b) => {
      await dropSlot(b, names.slot);
      await dropPublication(b, names.publication);
    },
    conn(deps, 'blue', 'cleanup'),
  ).catch((error: Error) => notes.push(`slot ${names.slot} and publication ${names.publication} on blue: ${error.message.split('\n')[0]}`));
  return notes.length
    ? {
        note: ` Replication cleanup left work (kept in the record; \`bluegreen abort\` drops them once the side answers; blue keeps WAL for the slot until then): ${notes.join('; ')}.`,
        left: true,
      }
    : { note: ' The replication slot and publication on blue were dropped.', left: false };
}

export async function _clone(deps: Deps, options: CloneOptions = {}): Promise<CloneResult> {
  const { config } = deps;
  const previous = await loadState(deps);
  const at = () => deps.clock.now().toISOString();
  const draft = advance(newCutover(newCutoverId(deps.clock.now()), config.mode, at(), deps.who), 'clone-started', at(), deps.who);
  advance({ ...previous, mode: config.mode }, 'clone-started', at(), deps.who); // throws if the current cutover forbids a new clone
  const resetGreen = greenResettable(previous, options.acceptDataLoss);
  if (options.dryRun) {
    return {
      ok: true,
      cutover: draft.id,
      steps: planOnly(
        cloneSteps(
          deps,
          () => draft,
          async () => {},
          options,
          resetGreen,
        ).steps,
      ),
    };
  }
  // Preflight first: it only reads, and an unreachable blue or a wrong password is a finding (exit 3), not a crash at the lock.
  const facts = await gatherFacts(deps, previous, options.acceptDataLoss);
  assertFactsNotBlocked(facts);
  return controlled(deps, 'clone', async () => {
    if (options.acceptDataLoss) await recordGreenReCreated(deps, previous);
    // A failed clone whose slot could not be dropped left its names: drop them before the record is replaced.
    const leftover = previous.phase === 'aborted' ? await dropForwardLink(deps, previous.forward) : { left: false, note: '' };
    if (leftover.left)
      throw new BlueGreenError(`the previous cutover's replication objects could not be dropped:${leftover.note}`, {
        hint: 'Make blue and green reachable, then run `bluegreen abort` or `bluegreen clone` again.',
      });
    // The privilege plan is kept: status and the switchover read what the rollback can promise from it.
    let state: CutoverState = { ...draft, greenDatabaseCreated: resetGreen, privileges: facts.privileges?.plan };
    await deps.store.save(state);
    const update = async (changes: Partial<CutoverState>) => {
      state = { ...state, ...changes, updatedAt: at() };
      await deps.store.save(state);
    };
    const { steps, release, settle } = cloneSteps(deps, () => state, update, options, resetGreen);
    const outcome = await runSteps(steps, deps.progress, config.secrets).finally(async () => {
      await settle();
      await release();
    });
    if (!outcome.failed) {
      state = advance(state, 'clone-finished', at(), deps.who);
      await deps.store.save(state);
      return { ok: true, cutover: state.id, dump: state.dump, steps: outcome.steps };
    }
    // Undo what stops blue from serving (the freeze) and what would keep WAL on blue (the slot). Green
    // keeps its partial copy for inspection; the next clone re-creates it.
    // The names stay in the record until the objects are really gone: abort (or the next clone) needs them.
    const dropped = await dropForwardLink(deps, state.forward);
    let unfrozen = dropped.note;
    state = { ...state, forward: dropped.left ? state.forward : undefined };
    if (state.blueFrozen) {
      try {
        await withClient(config.blue, unfreezeWrites, conn(deps, 'blue', 'clone'));
        state = { ...state, blueFrozen: false };
        unfrozen = ' Blue was unfrozen and takes writes again.';
      } catch (error) {
        unfrozen = ` Blue could NOT be unfrozen (${(error as Error).message.split('\n')[0]}): run \`bluegreen abort\`.`;
      }
    }
    state = advance(state, 'clone-failed', at(), deps.who, { lastError: outcome.failed.error.message });
    await deps.store.save(state);
    const err = outcome.failed.error;
    return {
      ok: false,
      cutover: state.id,
      steps: outcome.steps,
      error: {
        code: err.code,
        exitCode: err.exitCode,
        message: `clone failed at ${outcome.failed.step}: ${err.message}`,
        hint: `${err.hint ? `${err.hint} ` : ''}Blue serves.${unfrozen} Fix the cause, then run \`bluegreen clone\` again (green is re-created).`,
      },
    };
  });
}
