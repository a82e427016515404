/** Human output: what an operator reads at 2 a.m. Plain text, aligned, no colour codes in pipes. */
import { describeBlocker } from '../core/blockers.js';
import type { CompareResult } from '../core/compare-model.js';
import { formatDuration } from '../core/duration.js';
import type { Finding } from '../core/preflight-rules.js';
import type { StepResult } from '../core/report.js';
import { describeDifference } from '../core/schema-diff.js';
import type { StatusResult } from '../commands/status.js';

export function table(
  headers: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  rightAligned: ReadonlySet<number> = new Set(),
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const SYMBOL: Record<string, string> = { ok: '✔', warn: '⚠', block: '✖', failed: '✖', skipped: '–' };

export function renderFindings(findings: ReadonlyArray<Finding>): string {
  const lines = findings.map(
    (f) => `${SYMBOL[f.status]} ${f.status.padEnd(5)} ${f.message}${f.fix && f.status !== 'ok' ? `\n           fix: ${f.fix}` : ''}`,
  );
  const blocks = findings.filter((f) => f.status === 'block').length;
  const warns = findings.filter((f) => f.status === 'warn').length;
  lines.push(
    '',
    blocks
      ? `Blocked: ${blocks} problem${blocks > 1 ? 's' : ''} to fix before cloning (exit 3).`
      : `Ready to clone${warns ? ` (${warns} warning${warns > 1 ? 's' : ''})` : ''}.`,
  );
  return lines.join('\n');
}

export function renderSteps(steps: ReadonlyArray<StepResult>): string {
  return table(
    ['step', 'status', 'time', 'detail'],
    steps.map((s) => [s.name, `${SYMBOL[s.status]} ${s.status}`, s.status === 'skipped' && s.ms === 0 ? '' : `${s.ms} ms`, s.detail ?? '']),
    new Set([2]),
  );
}

const fmt = (n: number | null) => (n === null ? '—' : n.toLocaleString('en-US'));

export function renderCompare(r: CompareResult): string {
  const mark = (status: string) =>
    status === 'differs' || status === 'missing-on-green' ? '✖' : status === 'in-flight' || status === 'stale' ? '~' : '✔';
  const out = [
    table(
      ['table', 'blue rows', 'green rows', 'compared', 'chunks', 'time', 'status'],
      r.tables.map((t) => [
        t.table,
        fmt(t.blueRows),
        fmt(t.greenRows),
        t.method === 'key' ? 'rows by key' : t.method === 'multiset' ? 'multiset (no key)' : 'count only',
        t.chunks === undefined ? '' : String(t.chunks),
        t.ms === undefined ? '' : `${t.ms} ms`,
        `${mark(t.status)} ${t.status}`,
      ]),
      new Set([1, 2, 4, 5]),
    ),
  ];
  for (const t of r.tables) {
    if (t.differences?.length) {
      out.push('', `${t.table}: ${t.differences.length}${t.truncated ? '+' : ''} differing row${t.differences.length > 1 ? 's' : ''}`);
      for (const d of t.differences) {
        const key = Object.entries(d.key)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ');
        out.push(
          `  ${key}: ${d.kind === 'differs' ? `differs in ${d.columns?.join(', ') || '(columns unknown)'}` : d.kind.replace(/-/g, ' ')}`,
        );
      }
    } else if (t.status === 'differs' && t.method === 'multiset') {
      out.push(
        '',
        `${t.table}: has no key, so it is compared as a multiset: the rows differ (a missing, extra or duplicated row), and which ones cannot be named`,
      );
    }
    if (t.status === 'stale')
      out.push(
        '',
        `${t.table}: materialized view, ${t.blueRows === null ? 'not populated on one side' : 'its rows differ'}: the standby's copy is as of ${t.staleSince ?? 'its last refresh'} (every flip refreshes it on the side traffic goes to; REFRESH MATERIALIZED VIEW to do it now)`,
      );
    if (t.unsettled)
      out.push(`  ${t.table}: ${t.unsettled} row${t.unsettled > 1 ? 's' : ''} kept changing while read (in flight, not a difference)`);
  }
  const excluded = r.tables.flatMap((t) => (t.excludedColumns ?? []).map((c) => `${t.table}.${c.name} (${c.reason})`));
  if (excluded.length) out.push('', `Not compared by content: ${excluded.join('; ')}`);
  if (r.schema.expected.length)
    out.push(
      '',
      `Schema changes the migrations explain (${r.schema.expected.length}):`,
      ...r.schema.expected.map((d) => `  ${describeDifference(d)}`),
    );
  if (r.schema.unexpected.length)
    out.push(
      '',
      `UNEXPECTED schema differences (${r.schema.unexpected.length}):`,
      ...r.schema.unexpected.map(
        (d) =>
          `  ${describeDifference(d)}  [${d.reason}${d.ddlOnBlue?.length ? `: ${d.ddlOnBlue.map((e) => `${e.command} ${e.object ?? ''} at ${e.at}`).join('; ')}` : ''}]`,
      ),
    );
  // Warnings, not differences: what SELECT * and column-list-less INSERT/COPY see changes.
  if (r.schema.columnOrder?.length) {
    out.push(
      '',
      `Column order differs (${r.schema.columnOrder.length}, a warning): ${r.schema.columnOrder[0].affects}`,
      ...r.schema.columnOrder.map((c) => `  ⚠ ${c.table}: blue (${c.blue.join(', ')}), green (${c.green.join(', ')})`),
    );
  }
  if (r.integrity.length)
    out.push(
      '',
      'Integrity on green:',
      ...r.integrity.map(
        (f) => `  ${f.severity === 'fail' ? '✖' : '⚠'} ${f.check} ${f.object}${f.onlyOnBlue ? ' (on blue)' : ''}: ${f.detail}`,
      ),
    );
  else out.push('', '✔ Integrity on green: no invalid constraint or index, no foreign-key orphan, sequences ahead of their columns.');
  const seconds = Math.max(r.ms, 1) / 1000;
  out.push(
    '',
    `${r.ok ? '✔ Blue and green hold the same rows' : '✖ Differences found (exit 1)'}: ${r.tables.length} tables, ${fmt(r.rowsCompared)} rows (${(r.bytesCompared / 1024 / 1024).toFixed(0)} MB, both sides) verified in ${formatDuration(r.ms)} — ${fmt(Math.round(r.rowsCompared / seconds))} rows/s, ${(r.bytesCompared / 1024 / 1024 / seconds).toFixed(0)} MB/s.`,
  );
  return out.join('\n');
}

export function renderStatus(s: StatusResult, now: number): string {
  const lines: Array<[string, string]> = [
    ['cutover', s.cutover ?? '(none yet)'],
    ['mode', s.mode],
    ['phase', s.phase],
    ['serving', s.serving === 'unknown' ? `unknown (${s.pointerError ?? 'pointer unreadable'})` : s.serving],
    [
      'pointer',
      `${s.pointer}${s.pointerInstances ? s.pointerInstances.map((i) => `\n    ${i.instance}: ${i.error ? `unreadable (${i.error})` : i.serving}`).join('') : ''}`,
    ],
    [
      'blue',
      `${s.blueFrozen ? 'frozen (reads only)' : 'open for writes'}${s.versions?.blue ? `, PostgreSQL ${s.versions.blue}` : ''}${s.versions?.blueError ? `; ${s.versions.blueError}` : ''}`,
    ],
    ...(s.versions?.green || s.versions?.greenError
      ? ([['green', s.versions.green ? `PostgreSQL ${s.versions.green}` : s.versions.greenError!]] as Array<[string, string]>)
      : []),
  ];
  if (s.rollbackWindowEndsAt) {
    const left = Date.parse(s.rollbackWindowEndsAt) - now;
    lines.push([
      'rollback window',
      s.phase === 'switched-over' || s.phase === 'rolling-back'
        ? left > 0
          ? `${formatDuration(left)} left (until ${s.rollbackWindowEndsAt})`
          : `closed at ${s.rollbackWindowEndsAt}: finalize when ready`
        : `ended (${s.phase})`,
    ]);
  }
  const mb = (n?: number) =>
    n === undefined ? '?' : n < 1024 * 1024 ? `${(n / 1024).toFixed(0)} kB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
  for (const r of s.replication) {
    lines.push([
      `replication ${r.direction}`,
      r.error
        ? `unknown (${r.error})`
        : `${r.running ? (r.uncoveredTables?.length ? `running, but NOT replicating ${r.uncoveredTables.join(', ')} (left the publication)` : 'running') : 'NOT RUNNING'}, lag ${mb(r.lagBytes)}${r.lagSeconds !== undefined ? ` / ${r.lagSeconds.toFixed(1)} s` : ''}, WAL retained ${mb(r.retainedBytes)}${r.walStatus ? ` (${r.walStatus})` : ''}${r.cause ? `\n    cause: ${r.cause}` : ''}`,
    ]);
  }
  if (s.window) {
    const w = s.window;
    lines.push([
      w.next,
      w.error
        ? `UNKNOWN whether lossless (${w.error})`
        : w.verdict === 'lossless'
          ? `lossless${w.pending.length ? ` once sync-schema carries ${w.pending.length} change${w.pending.length > 1 ? 's' : ''} (every flip does it first)` : ''}`
          : `WOULD LOSE DATA:${w.losses.map((l) => `\n    ${l.object}: ${l.what}`).join('')}\n    (refused without --accept-data-loss)`,
    ]);
    if (w.pending.length) lines.push(['to carry', w.pending.join('\n    ')]);
    for (const n of w.notes) lines.push(['note', n]);
  }
  if (s.lost) lines.push([`${s.lost.side} lost`, s.lost.note]);
  // Only what differs from a superuser's cutover: a strategy with a cost, and a rollback that cannot be lossless.
  const costs = (s.privileges?.capabilities ?? []).filter((c) => c.status !== 'ok');
  if (costs.length)
    lines.push([
      'privileges',
      costs.map((c) => `${c.side} ${c.capability}: ${c.strategy}${c.detail ? ` (${c.detail})` : ''}`).join('\n    '),
    ]);
  if (s.privileges && !s.privileges.rollbackLossless)
    lines.push(['rollback', `NOT LOSSLESS: ${s.privileges.rollbackLoss} (the switchover refuses without --accept-data-loss)`]);
  const pb = s.pauseBlockers;
  if (pb?.error) lines.push(['pause blockers', `unknown (${pb.error})`]);
  else if (pb?.sessions?.length)
    lines.push([
      'pause blockers',
      `${pb.sessions.length} on ${pb.side} would hold the next flip's pause:${pb.sessions.map((b) => `\n    ${describeBlocker(b)}`).join('')}`,
    ]);
  if (s.poolModesError) lines.push(['pool mode', s.poolModesError]);
  if (s.pointerInstancesError) lines.push(['pointer fleet', s.pointerInstancesError]);
  for (const m of s.poolModes ?? [])
    if (m.mode !== 'transaction')
      lines.push([
        'pool mode',
        `${m.instance}: ${m.mode} (${m.clients} clients): a flip cannot pause it; \`bluegreen preflight\` says what to change`,
      ]);
  for (const d of s.ddl) {
    // A log that could not be read is not a log with nothing in it.
    if (d.error) lines.push([`DDL on ${d.side}`, `${d.error} (since ${d.since})`]);
    if (d.missed?.length)
      lines.push([
        `DDL on ${d.side}`,
        `the DDL log MISSED ${d.missed.length} change${d.missed.length > 1 ? 's' : ''}: compare the schemas before a flip:${d.missed.map((m) => `\n    ${m.at} ${m.reason.split('\n')[0]}`).join('')}`,
      ]);
    if (!d.entries.length) continue;
    lines.push([
      `DDL on ${d.side}`,
      `${d.entries.length} since ${d.since}:${d.entries.map((e) => `\n    ${e.at} ${e.role}: ${e.command}${e.object ? ` ${e.object}` : ''}`).join('')}`,
    ]);
  }
  if (s.guard) {
    const g = s.guard.last;
    lines.push([
      'guard',
      `${g.decision} at ${g.at}${g.detail ? ` (${g.detail})` : ''}${s.guard.rule ? `\n    rolls back after ${s.guard.rule}` : ''}${g.checks.map((c) => `\n    ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.builtin ? ' (alerts only)' : ''}${c.detail ? `: ${c.detail}` : ''}`).join('')}`,
    ]);
  }
  if (s.lastFlip)
    lines.push([
      'last flip',
      `${s.lastFlip.kind} ${s.lastFlip.ok ? 'ok' : 'FAILED'} at ${s.lastFlip.at}${s.lastFlip.writePauseMs !== undefined ? `, writes paused ${s.lastFlip.writePauseMs} ms` : ''}`,
    ]);
  if (s.migrationsApplied.length) lines.push(['migrations', `${s.migrationsApplied.join(', ')} applied to green`]);
  if (s.dump) lines.push(['backup', s.dump]);
  // The whole message (a refusal names what it refuses on the lines after its first), a few lines at most.
  if (s.lastError)
    lines.push([
      'last error',
      s.lastError
        .split('\n')
        .slice(0, 6)
        .map((l) => l.trim())
        .join('\n    '),
    ]);
  const width = Math.max(...lines.map(([k]) => k.length));
  // Continuation lines of a value start under the value, a little further in.
  const indent = (v: string) => v.replace(/\n {4}/g, `\n${' '.repeat(width + 4)}`);
  return [...lines.map(([k, v]) => `${k.padEnd(width)}  ${indent(v)}`), '', s.advice].join('\n');
}

const SPARK = '▁▂▃▄▅▆▇█';

/** A small chart of the last readings: one block per reading, scaled to the largest. */
export function sparkline(values: ReadonlyArray<number>): string {
  if (!values.length) return '';
  const max = Math.max(...values, 1);
  return values.map((v) => SPARK[Math.min(SPARK.length - 1, Math.floor((v / max) * (SPARK.length - 1)))]).join('');
}

const kb = (n?: number) => (n === undefined ? '?' : n < 1024 * 1024 ? `${(n / 1024).toFixed(0)} kB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

/** `watch` on a terminal: the status with a sparkline of each direction's lag, redrawn each interval. */
export function renderWatchFrame(s: StatusResult, history: ReadonlyMap<string, ReadonlyArray<number>>, now: number): string {
  const lines = [`bluegreen watch — ${new Date(now).toISOString()} (Ctrl-C to stop)`, '', renderStatus(s, now)];
  if (history.size) {
    lines.push('', 'lag, last readings:');
    for (const [direction, values] of history) lines.push(`  ${direction.padEnd(14)} ${sparkline(values)}  ${kb(values.at(-1))}`);
  }
  return lines.join('\n');
}

/** `watch` into a pipe or a log: one line per reading. */
export function renderWatchLine(s: StatusResult, now: number): string {
  const parts = [new Date(now).toISOString(), `phase=${s.phase}`, `serving=${s.serving}`];
  for (const r of s.replication) {
    // A direction that could not be read is unknown, not "not running, lag 0".
    if (r.error) parts.push(`${r.direction.replace(' → ', '->')}=unknown`);
    else
      parts.push(
        `${r.direction.replace(' → ', '->')}=${r.running ? 'running' : 'NOT-RUNNING'} lag=${kb(r.lagBytes)}/${r.lagSeconds === undefined ? '?' : r.lagSeconds.toFixed(1)}s retained=${kb(r.retainedBytes)}`,
      );
  }
  for (const d of s.ddl) if (d.error || d.missed?.length) parts.push(`ddl_${d.side}=${d.error ? 'unknown' : 'missed'}`);
  if (s.rollbackWindowLeftMs !== undefined) parts.push(`window_left=${Math.max(0, Math.round(s.rollbackWindowLeftMs / 1000))}s`);
  if (s.window) parts.push(`${s.window.next}=${s.window.error ? 'unknown' : s.window.verdict}`);
  return parts.join(' ');
}
