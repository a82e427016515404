/**
 * Preflight's findings on blue, read when it answers: whether it can publish (replicate mode), what of its
 * data the copy cannot carry as it is (tables without a key, unlogged tables, publications, large objects),
 * transactions that would hold the cutover, and room for the dump.
 */
import type { Finding, PreflightFacts } from './preflight-facts.js';

const LONG_TRANSACTION_SECONDS = 300;
const GB = 1024 ** 3;

function fmtBytes(n: number): string {
  return n >= GB ? `${(n / GB).toFixed(1)} GB` : `${Math.round(n / 1024 ** 2)} MB`;
}

function walLevel(f: PreflightFacts): Finding[] {
  if (f.mode !== 'replicate') return [];
  return [
    f.blue.walLevel === 'logical'
      ? { check: 'wal-level', status: 'ok', message: 'wal_level = logical' }
      : {
          check: 'wal-level',
          status: 'block',
          message: `wal_level = ${f.blue.walLevel}`,
          fix: 'ALTER SYSTEM SET wal_level = logical; then restart blue.',
        },
  ];
}

function replicationCapacity(f: PreflightFacts): Finding[] {
  const { freeReplicationSlots: slots, freeWalSenders: senders } = f.blue;
  if (f.mode !== 'replicate' || slots === undefined || senders === undefined) return [];
  return [
    slots < 1 || senders < 1
      ? {
          check: 'replication-capacity',
          status: 'block',
          message: `blue has ${slots} free replication slots and ${senders} free WAL senders`,
          fix: 'Raise max_replication_slots and max_wal_senders on blue (restart needed).',
        }
      : { check: 'replication-capacity', status: 'ok', message: `blue: ${slots} free replication slots, ${senders} free WAL senders` },
  ];
}

function primaryKeys(f: PreflightFacts): Finding {
  const noKey = f.blue.tablesWithoutKey ?? [];
  if (!noKey.length) return { check: 'primary-keys', status: 'ok', message: 'every table has a primary key or replica identity' };
  return {
    check: 'primary-keys',
    status: f.mode === 'replicate' ? 'block' : 'warn',
    message:
      `${noKey.length} table${noKey.length > 1 ? 's' : ''} without a primary key or replica identity: ` +
      `${noKey.slice(0, 5).join(', ')}${noKey.length > 5 ? ', …' : ''}`,
    fix:
      f.mode === 'replicate'
        ? `Add a primary key, or ALTER TABLE ${noKey[0]} REPLICA IDENTITY FULL (slower) / USING INDEX <unique index>.`
        : 'Freeze mode copies them; compare can only count their rows.',
  };
}

/** What happens to each unlogged table, at its size now: copied at every flip, or the flip refuses before its pause. */
function unloggedTables(f: PreflightFacts): Finding[] {
  const names = f.blue.unloggedTables ?? [];
  if (!names.length) return [];
  const rows = f.blue.unloggedRows ?? {};
  const max = f.unloggedCopyMaxRows ?? 10_000;
  const sized = (t: string) => (rows[t] === undefined ? t : `${t} (${rows[t].toLocaleString('en-US')} row${rows[t] === 1 ? '' : 's'})`);
  const over = names.filter((t) => (rows[t] ?? 0) > max);
  const message = `unlogged tables: ${names.map(sized).join(', ')}`;
  if (f.mode === 'freeze') {
    const fix =
      "The clone copies their rows, blue frozen, so the copy is exact. A rollback gives up green's writes to them with its other writes: " +
      'it refuses without --accept-data-loss, naming them.';
    return [{ check: 'unlogged-tables', status: 'warn', message, fix }];
  }
  const limit = `switchover.unloggedCopyMaxRows (${max.toLocaleString('en-US')})`;
  const copied =
    'PostgreSQL cannot publish an unlogged table, so replication does not carry their writes: the clone copies their rows, ' +
    'and every switchover and rollback copies their current rows from the side traffic leaves to the side it goes to inside the pause, ' +
    `after the freeze (exact; the copy lengthens the pause), for each table of at most ${limit} rows.`;
  const many = over.length > 1;
  const refused = over.length
    ? ` At their size now, ${over.join(', ')} ${many ? 'are' : 'is'} over it: each flip will refuse before the pause, ` +
      `naming ${many ? 'them' : 'it'}, unless --accept-data-loss (recorded as given up); raise the bound, empty ${many ? 'them' : 'it'}, ` +
      'or ALTER TABLE … SET LOGGED before the clone.'
    : ' A table over it when a flip runs makes the flip refuse before the pause, naming it, ' +
      'unless --accept-data-loss (recorded as given up).';
  const fix = `${copied}${refused} Between flips the standby side's copy is not kept current: compare reports it as differing.`;
  return [{ check: 'unlogged-tables', status: 'warn', message, fix }];
}

function publications(f: PreflightFacts): Finding[] {
  const names = f.blue.publications ?? [];
  if (!names.length) return [];
  return [
    {
      check: 'publications',
      status: 'warn',
      message:
        `blue has publication${names.length > 1 ? 's' : ''} of its own: ${names.join(', ')}; neither clone copies them ` +
        '(the dump leaves every publication out, so that ours is not copied with them)',
      fix:
        'Create them on green (CREATE PUBLICATION … FOR TABLE …) before the switchover if anything subscribes to them; ' +
        'their subscribers must then be pointed at green.',
    },
  ];
}

function largeObjects(f: PreflightFacts): Finding[] {
  if (!f.blue.largeObjects) return [];
  return [
    {
      check: 'large-objects',
      status: 'warn',
      message: `${f.blue.largeObjects} large objects: logical replication does not carry them, the tool copies them`,
      fix:
        f.mode === 'replicate'
          ? 'The clone copies them (bytes, owner, ACL, comment) under its snapshot; each flip copies those created, changed or unlinked ' +
            'since, before the pause, then inside it those changed after that (one scan of pg_largeobject on the side it leaves); ' +
            'compare checks each by hash. A large object the side traffic goes to has and the other never had is left alone.'
          : "The dump copies them; a switchover copies those changed on blue since. A rollback gives up green's changes to them: " +
            'it refuses without --accept-data-loss, naming their oids.',
    },
  ];
}

function longTransactions(f: PreflightFacts): Finding {
  const long = (f.blue.longTransactions ?? []).filter((t) => t.seconds >= LONG_TRANSACTION_SECONDS);
  if (!long.length) return { check: 'long-transactions', status: 'ok', message: 'no long-running transactions' };
  return {
    check: 'long-transactions',
    status: 'warn',
    message:
      `${long.length} transaction${long.length > 1 ? 's' : ''} open for over ${LONG_TRANSACTION_SECONDS / 60} min ` +
      `(oldest: pid ${long[0].pid}, ${Math.round(long[0].seconds)} s, ${long[0].who})`,
    fix: f.mode === 'freeze' ? 'The freeze ends them; let them finish first.' : 'They hold the switchover: let them finish first.',
  };
}

function diskSpace(f: PreflightFacts): Finding[] {
  if (f.dumpDirProblem) {
    return [
      {
        check: 'disk-space',
        status: 'block',
        message: `dumpDir ${f.dumpDir}: ${f.dumpDirProblem}`,
        fix: 'Point dumpDir in the config at a folder this user can write.',
      },
    ];
  }
  if (f.streaming) {
    return [
      {
        check: 'disk-space',
        status: 'ok',
        message: `clone.backup is "none": the rows stream from blue to green; only the schema is written to ${f.dumpDir}`,
      },
    ];
  }
  const free = f.dumpDirFreeBytes;
  const need = f.blue.sizeBytes;
  if (free === undefined || need === undefined) return [];
  return [
    free < need
      ? {
          check: 'disk-space',
          status: 'block',
          message: `${f.dumpDir}: ${fmtBytes(free)} free, the dump needs up to ${fmtBytes(need)}`,
          fix: 'Free space or set dumpDir to a bigger disk.',
        }
      : {
          check: 'disk-space',
          status: free < need * 1.5 ? 'warn' : 'ok',
          message: `${f.dumpDir}: ${fmtBytes(free)} free for a dump of up to ${fmtBytes(need)}`,
        },
  ];
}

/** Blue's findings, when it answered (an unreachable blue has its own finding already). */
export function blueReadiness(f: PreflightFacts): Finding[] {
  if (f.blue.error) return [];
  return [
    ...walLevel(f),
    ...replicationCapacity(f),
    primaryKeys(f),
    ...unloggedTables(f),
    ...publications(f),
    ...largeObjects(f),
    longTransactions(f),
    ...diskSpace(f),
  ];
}
