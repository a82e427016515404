/**
 * Preflight's findings on replication between the sides: whether green can replicate back for a rollback,
 * how much WAL a stalled slot may keep, and whether each side's peer address answers.
 */
import type { Finding, PreflightFacts } from './preflight-facts.js';

/** Green's settings allow replication back; whether the roles' privileges do is the plan's to say. */
function replicatesBack(f: PreflightFacts): string {
  return f.privileges?.plan?.rollbackLossless === false
    ? "green's wal_level, slots and WAL senders would allow replication back; the roles' privileges do not (see rollback-lossless)"
    : 'green can replicate back to blue for a rollback';
}

/** A rollback replicates green → blue: green publishes, so it needs logical WAL and a free slot too. */
export function greenReplication(f: PreflightFacts): Finding[] {
  const g = f.green;
  if (f.mode !== 'replicate' || g.error || g.walLevel === undefined) return [];
  return [
    g.walLevel !== 'logical' || (g.freeReplicationSlots ?? 0) < 1 || (g.freeWalSenders ?? 0) < 1
      ? {
          check: 'green-replication',
          status: 'block',
          message:
            `green: wal_level = ${g.walLevel}, ${g.freeReplicationSlots} free slots, ${g.freeWalSenders} free WAL senders: ` +
            "a rollback could not replicate green's writes back",
          fix: 'On green: wal_level = logical and at least one free replication slot and WAL sender (restart needed).',
        }
      : { check: 'green-replication', status: 'ok', message: replicatesBack(f) },
  ];
}

/** A stalled subscriber makes its slot keep every byte of WAL the serving side writes, until its disk fills. */
export function slotWalLimits(f: PreflightFacts): Finding[] {
  if (f.mode !== 'replicate') return [];
  const out: Finding[] = [];
  for (const [side, facts] of [
    ['blue', f.blue],
    ['green', f.green],
  ] as const) {
    if (facts.error || facts.maxSlotWalKeepSize === undefined) continue;
    out.push(
      facts.maxSlotWalKeepSize === '-1'
        ? {
            check: `${side}-slot-wal-limit`,
            status: 'warn',
            message:
              `${side}: max_slot_wal_keep_size is unlimited: if the other side stops applying (down, or its apply worker failing), ` +
              `${side} keeps all its WAL for our slot until its disk is full and it stops taking writes`,
            fix:
              `Set a limit ${side} can afford (ALTER SYSTEM SET max_slot_wal_keep_size = '50GB'; SELECT pg_reload_conf()): ` +
              'a slot past it is invalidated instead, and `bluegreen status` shows its wal_status.',
          }
        : slotLimitTooSmall(side, facts.maxSlotWalKeepSize),
    );
  }
  return out;
}

/** A server that may lose what it acknowledged: the promise "no acknowledged write lost" holds only as far as it keeps them. */
export function durability(f: PreflightFacts): Finding[] {
  return (['blue', 'green'] as const).flatMap((side): Finding[] => {
    const facts = f[side];
    if (facts.error || !facts.notDurable?.length) return [];
    return [
      {
        check: `${side}-durability`,
        status: 'warn',
        message:
          `${side}: ${facts.notDurable.join(', ')} off: a crash of ${side} can lose transactions it acknowledged, ` +
          'and no cutover can keep what the server itself did not',
        fix: `For production, turn them on (ALTER SYSTEM SET ${facts.notDurable[0]} = on; SELECT pg_reload_conf()).`,
      },
    ];
  });
}

/** Below this a short stall of the subscriber (a restart, a long transaction on it) can pass the limit. */
const SMALLEST_SAFE_SLOT_LIMIT_MB = 1024;

function slotLimitTooSmall(side: 'blue' | 'green', setting: string): Finding {
  const match = /^(\d+)\s*(kB|MB|GB|TB)?$/.exec(setting);
  const units: Record<string, number> = { kB: 1 / 1024, MB: 1, GB: 1024, TB: 1024 * 1024 };
  const mb = match ? Number(match[1]) * (units[match[2] ?? 'MB'] ?? 1) : undefined;
  if (mb === undefined || mb >= SMALLEST_SAFE_SLOT_LIMIT_MB)
    return { check: `${side}-slot-wal-limit`, status: 'ok', message: `${side}: max_slot_wal_keep_size = ${setting}` };
  return {
    check: `${side}-slot-wal-limit`,
    status: 'warn',
    message:
      `${side}: max_slot_wal_keep_size = ${setting}: a subscriber that stalls briefly (a restart, a long transaction on it) ` +
      'can pass it, and the slot is then invalidated: the next flip stops being lossless until `bluegreen reseed` (or a new clone)',
    fix: `Raise it to what ${side}'s disk can afford while the other side is down for a while (for example '50GB').`,
  };
}

/** Each side's peer address, where it differs from the controller's: the other side must reach it to replicate. */
export function peers(f: PreflightFacts): Finding[] {
  const out: Finding[] = [];
  for (const side of ['blue', 'green'] as const) {
    const problem = f.peers?.[side];
    if (problem === undefined) continue;
    const other = side === 'blue' ? 'green' : 'blue';
    out.push(
      problem
        ? {
            check: `${side}-peer`,
            status: 'warn',
            message:
              `${side}'s peer address is not reachable from this controller (${problem}): ` +
              `${other} must reach it to replicate, which is checked when the subscription is made`,
            fix: `Check ${side}.peer from ${other}'s host.`,
          }
        : { check: `${side}-peer`, status: 'ok', message: `${side}'s peer address answers` },
    );
  }
  return out;
}
