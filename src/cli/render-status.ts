/**
 * `bluegreen status` and `watch` as an operator reads them: one labelled row per fact, the labels
 * aligned, a value's further lines indented under it. Each group of rows is its own function.
 */
import { describeBlocker } from '../core/blockers.js';
import { formatDuration } from '../core/duration.js';
import { verdictLosses } from '../core/window-verdict.js';
import type { DdlStatus, StatusResult } from '../commands/status.js';

/** A label and its value; a value's continuation lines start with "\n    ". */
type Row = readonly [label: string, value: string];

/** Continuation lines of a value, each on its own line under the value. */
const more = (lines: ReadonlyArray<string>) => lines.map((l) => `\n    ${l}`).join('');
const plural = (n: number, word: string) => `${n} ${word}${n > 1 ? 's' : ''}`;
const bytes = (n?: number) =>
  n === undefined ? '?' : n < 1024 * 1024 ? `${(n / 1024).toFixed(0)} kB` : `${(n / 1024 / 1024).toFixed(1)} MB`;

export function renderStatus(s: StatusResult, now: number): string {
  const rows: Row[] = [
    ...whereRows(s),
    ...rollbackWindowRows(s, now),
    ...s.replication.map(replicationRow),
    ...windowVerdictRows(s),
    ...(s.lost ? [[`${s.lost.side} lost`, s.lost.note] as const] : []),
    ...privilegeRows(s),
    ...poolerRows(s),
    ...s.ddl.flatMap(ddlRows),
    ...historyRows(s),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  // Continuation lines of a value start under the value, a little further in.
  const indent = (v: string) => v.replace(/\n {4}/g, `\n${' '.repeat(width + 4)}`);
  return [...rows.map(([k, v]) => `${k.padEnd(width)}  ${indent(v)}`), '', s.advice].join('\n');
}

/** The cutover, what serves and what each side is. */
function whereRows(s: StatusResult): Row[] {
  const instances = s.pointerInstances?.map((i) => `${i.instance}: ${i.error ? `unreadable (${i.error})` : i.serving}`) ?? [];
  const v = s.versions;
  const blue =
    `${s.blueFrozen ? 'frozen (reads only)' : 'open for writes'}${v?.blue ? `, PostgreSQL ${v.blue}` : ''}` +
    (v?.blueError ? `; ${v.blueError}` : '');
  return [
    ['cutover', s.cutover ?? '(none yet)'],
    ['mode', s.mode],
    ['phase', s.phase],
    ['serving', s.serving === 'unknown' ? `unknown (${s.pointerError ?? 'pointer unreadable'})` : s.serving],
    ['pointer', `${s.pointer}${more(instances)}`],
    ['blue', blue],
    ...(v?.green || v?.greenError ? [['green', v.green ? `PostgreSQL ${v.green}` : v.greenError!] as const] : []),
  ];
}

function rollbackWindowRows(s: StatusResult, now: number): Row[] {
  if (!s.rollbackWindowEndsAt) return [];
  const left = Date.parse(s.rollbackWindowEndsAt) - now;
  // After a rollback the window still bounds finalize (which refuses before its end without --force).
  const open = s.phase === 'switched-over' || s.phase === 'rolling-back' || s.phase === 'rolled-back';
  const value = !open
    ? `ended (${s.phase})`
    : left > 0
      ? `${formatDuration(left)} left (until ${s.rollbackWindowEndsAt})`
      : `closed at ${s.rollbackWindowEndsAt}: finalize when ready`;
  return [['rollback window', value]];
}

function replicationRow(r: StatusResult['replication'][number]): Row {
  const label = `replication ${r.direction}`;
  if (r.error) return [label, `unknown (${r.error})`];
  const uncovered = r.uncoveredTables?.length;
  const state = r.running
    ? uncovered
      ? `running, but NOT replicating ${r.uncoveredTables!.join(', ')} (left the publication)`
      : 'running'
    : 'NOT RUNNING';
  const lag = `lag ${bytes(r.lagBytes)}${r.lagSeconds !== undefined ? ` / ${r.lagSeconds.toFixed(1)} s` : ''}`;
  const retained = `WAL retained ${bytes(r.retainedBytes)}${r.walStatus ? ` (${r.walStatus})` : ''}`;
  return [label, `${state}, ${lag}, ${retained}${r.cause ? more([`cause: ${r.cause}`]) : ''}`];
}

/** Replicate mode: whether the next flip would be lossless, and what sync-schema would carry first. */
function windowVerdictRows({ window: w }: StatusResult): Row[] {
  if (!w) return [];
  const pending = w.pending.length ? ` once sync-schema carries ${plural(w.pending.length, 'change')} (every flip does it first)` : '';
  const refused = w.losses.length ? more(['(refused without --accept-data-loss)']) : '';
  const verdict = w.reason
    ? `WOULD LOSE DATA:${more(verdictLosses(w))}${refused}`
    : w.error
      ? `UNKNOWN whether lossless (${w.error})`
      : w.verdict === 'lossless'
        ? `lossless${pending}`
        : `WOULD LOSE DATA:${more(verdictLosses(w))}${refused}`;
  return [
    [w.next, verdict],
    ...(w.pending.length ? [['to carry', w.pending.join('\n    ')] as const] : []),
    ...w.notes.map((n) => ['note', n] as const),
  ];
}

/** Only what differs from a superuser's cutover: a strategy with a cost, and a rollback that cannot be lossless. */
function privilegeRows({ privileges: p }: StatusResult): Row[] {
  const costs = (p?.capabilities ?? []).filter((c) => c.status !== 'ok');
  const rows: Row[] = [];
  if (costs.length)
    rows.push([
      'privileges',
      costs.map((c) => `${c.side} ${c.capability}: ${c.strategy}${c.detail ? ` (${c.detail})` : ''}`).join('\n    '),
    ]);
  if (p && !p.rollbackLossless)
    rows.push(['rollback', `NOT LOSSLESS: ${p.rollbackLoss} (the switchover refuses without --accept-data-loss)`]);
  return rows;
}

/** What would hold or defeat the next flip's pause: open sessions, a pooler not in transaction mode. */
function poolerRows(s: StatusResult): Row[] {
  const rows: Row[] = [];
  const pb = s.pauseBlockers;
  if (pb?.error) rows.push(['pause blockers', `unknown (${pb.error})`]);
  else if (pb?.sessions?.length)
    rows.push([
      'pause blockers',
      `${pb.sessions.length} on ${pb.side} would hold the next flip's pause:${more(pb.sessions.map((b) => describeBlocker(b)))}`,
    ]);
  if (s.poolModesError) rows.push(['pool mode', s.poolModesError]);
  if (s.pointerInstancesError) rows.push(['pointer fleet', s.pointerInstancesError]);
  for (const m of s.poolModes ?? [])
    if (m.mode !== 'transaction')
      rows.push([
        'pool mode',
        `${m.instance}: ${m.mode} (${m.clients} clients): a flip cannot pause it; \`bluegreen preflight\` says what to change`,
      ]);
  return rows;
}

function ddlRows(d: DdlStatus): Row[] {
  const label = `DDL on ${d.side}`;
  const rows: Row[] = [];
  // A log that could not be read is not a log with nothing in it.
  if (d.error) rows.push([label, `${d.error} (since ${d.since})`]);
  if (d.missed?.length) {
    const missed = more(d.missed.map((m) => `${m.at} ${m.reason.split('\n')[0]}`));
    rows.push([label, `the DDL log MISSED ${plural(d.missed.length, 'change')}: compare the schemas before a flip:${missed}`]);
  }
  if (d.entries.length) {
    const entries = d.entries.map((e) => `${e.at} ${e.role}: ${e.command}${e.object ? ` ${e.object}` : ''}`);
    rows.push([label, `${d.entries.length} since ${d.since}:${more(entries)}`]);
  }
  return rows;
}

/** What has happened: the guard's last round, the last flip, migrations, the backup, the last error. */
function historyRows(s: StatusResult): Row[] {
  const rows: Row[] = [];
  if (s.guard) rows.push(['guard', guardValue(s.guard)]);
  if (s.lastFlip) {
    const f = s.lastFlip;
    rows.push([
      'last flip',
      `${f.kind} ${f.ok ? 'ok' : 'FAILED'} at ${f.at}${f.writePauseMs !== undefined ? `, writes paused ${f.writePauseMs} ms` : ''}`,
    ]);
  }
  if (s.migrationsApplied.length) rows.push(['migrations', `${s.migrationsApplied.join(', ')} applied to green`]);
  if (s.dump) rows.push(['backup', s.dump]);
  // The whole message (a refusal names what it refuses on the lines after its first), a few lines at most.
  if (s.lastError)
    rows.push([
      'last error',
      s.lastError
        .split('\n')
        .slice(0, 6)
        .map((l) => l.trim())
        .join('\n    '),
    ]);
  return rows;
}

function guardValue({ last: g, rule }: NonNullable<StatusResult['guard']>): string {
  const checks = g.checks.map(
    (c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.builtin ? ' (alerts only)' : ''}${c.detail ? `: ${c.detail}` : ''}`,
  );
  return `${g.decision} at ${g.at}${g.detail ? ` (${g.detail})` : ''}${rule ? more([`rolls back after ${rule}`]) : ''}${more(checks)}`;
}

const SPARK = '▁▂▃▄▅▆▇█';

/** A small chart of the last readings: one block per reading, scaled to the largest. */
export function sparkline(values: ReadonlyArray<number>): string {
  if (!values.length) return '';
  const max = Math.max(...values, 1);
  return values.map((v) => SPARK[Math.min(SPARK.length - 1, Math.floor((v / max) * (SPARK.length - 1)))]).join('');
}

/** `watch` on a terminal: the status with a sparkline of each direction's lag, redrawn each interval. */
export function renderWatchFrame(s: StatusResult, history: ReadonlyMap<string, ReadonlyArray<number>>, now: number): string {
  const lines = [`bluegreen watch — ${new Date(now).toISOString()} (Ctrl-C to stop)`, '', renderStatus(s, now)];
  if (history.size) {
    lines.push('', 'lag, last readings:');
    for (const [direction, values] of history) lines.push(`  ${direction.padEnd(14)} ${sparkline(values)}  ${bytes(values.at(-1))}`);
  }
  return lines.join('\n');
}

/** `watch` into a pipe or a log: one line per reading. */
export function renderWatchLine(s: StatusResult, now: number): string {
  const parts = [new Date(now).toISOString(), `phase=${s.phase}`, `serving=${s.serving}`];
  for (const r of s.replication) {
    const direction = r.direction.replace(' → ', '->');
    // A direction that could not be read is unknown, not "not running, lag 0".
    if (r.error) parts.push(`${direction}=unknown`);
    else {
      const lag = `${bytes(r.lagBytes)}/${r.lagSeconds === undefined ? '?' : r.lagSeconds.toFixed(1)}s`;
      parts.push(`${direction}=${r.running ? 'running' : 'NOT-RUNNING'} lag=${lag} retained=${bytes(r.retainedBytes)}`);
    }
  }
  for (const d of s.ddl) if (d.error || d.missed?.length) parts.push(`ddl_${d.side}=${d.error ? 'unknown' : 'missed'}`);
  if (s.rollbackWindowLeftMs !== undefined) parts.push(`window_left=${Math.max(0, Math.round(s.rollbackWindowLeftMs / 1000))}s`);
  if (s.window) parts.push(`${s.window.next}=${s.window.verdict}`);
  return parts.join(' ');
}
