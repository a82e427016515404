/** Human output: what an operator reads at 2 a.m. Plain text, aligned, no colour codes in pipes. */
import type { CompareResult } from '../core/compare-model.js';
import { formatDuration } from '../core/duration.js';
import type { Finding } from '../core/preflight-rules.js';
import type { StepResult } from '../core/report.js';
import { describeDifference } from '../core/schema-diff.js';

export { renderStatus, renderWatchFrame, renderWatchLine, sparkline } from './render-status.js';

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
  return [compareTable(r), ...r.tables.flatMap(tableNotes), ...schemaNotes(r), ...integrityNotes(r), '', compareSummary(r)].join('\n');
}

type CompareTable = CompareResult['tables'][number];

function compareTable(r: CompareResult): string {
  const mark = (status: string) =>
    status === 'differs' || status === 'missing-on-green' ? '✖' : status === 'in-flight' || status === 'stale' ? '~' : '✔';
  return table(
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
  );
}

/** Under the table, per table: the rows that differ by key, or why they cannot be named; a stale view; rows in flight. */
function tableNotes(t: CompareTable): string[] {
  const out: string[] = [];
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
      `${t.table}: has no key, so it is compared as a multiset: ` +
        'the rows differ (a missing, extra or duplicated row), and which ones cannot be named',
    );
  }
  if (t.status === 'stale')
    out.push(
      '',
      `${t.table}: materialized view, ${t.blueRows === null ? 'not populated on one side' : 'its rows differ'}: ` +
        `the standby's copy is as of ${t.staleSince ?? 'its last refresh'} ` +
        '(every flip refreshes it on the side traffic goes to; REFRESH MATERIALIZED VIEW to do it now)',
    );
  if (t.unsettled)
    out.push(`  ${t.table}: ${t.unsettled} row${t.unsettled > 1 ? 's' : ''} kept changing while read (in flight, not a difference)`);
  return out;
}

function schemaNotes(r: CompareResult): string[] {
  const out: string[] = [];
  const excluded = r.tables.flatMap((t) => (t.excludedColumns ?? []).map((c) => `${t.table}.${c.name} (${c.reason})`));
  if (excluded.length) out.push('', `Not compared by content: ${excluded.join('; ')}`);
  const { expected, unexpected, columnOrder } = r.schema;
  if (expected.length)
    out.push('', `Schema changes the migrations explain (${expected.length}):`, ...expected.map((d) => `  ${describeDifference(d)}`));
  if (unexpected.length) {
    const ddl = (d: (typeof unexpected)[number]) =>
      d.ddlOnBlue?.length ? `: ${d.ddlOnBlue.map((e) => `${e.command} ${e.object ?? ''} at ${e.at}`).join('; ')}` : '';
    out.push(
      '',
      `UNEXPECTED schema differences (${unexpected.length}):`,
      ...unexpected.map((d) => `  ${describeDifference(d)}  [${d.reason}${ddl(d)}]`),
    );
  }
  // Warnings, not differences: what SELECT * and column-list-less INSERT/COPY see changes.
  if (columnOrder?.length) {
    out.push(
      '',
      `Column order differs (${columnOrder.length}, a warning): ${columnOrder[0].affects}`,
      ...columnOrder.map((c) => `  ⚠ ${c.table}: blue (${c.blue.join(', ')}), green (${c.green.join(', ')})`),
    );
  }
  return out;
}

function integrityNotes(r: CompareResult): string[] {
  if (!r.integrity.length)
    return ['', '✔ Integrity on green: no invalid constraint or index, no foreign-key orphan, sequences ahead of their columns.'];
  return [
    '',
    'Integrity on green:',
    ...r.integrity.map(
      (f) => `  ${f.severity === 'fail' ? '✖' : '⚠'} ${f.check} ${f.object}${f.onlyOnBlue ? ' (on blue)' : ''}: ${f.detail}`,
    ),
  ];
}

/** The verdict, and how much was read how fast. */
function compareSummary(r: CompareResult): string {
  const seconds = Math.max(r.ms, 1) / 1000;
  const mb = r.bytesCompared / 1024 / 1024;
  const verdict = r.ok ? '✔ Blue and green hold the same rows' : '✖ Differences found (exit 1)';
  const size = `${r.tables.length} tables, ${fmt(r.rowsCompared)} rows (${mb.toFixed(0)} MB, both sides)`;
  const speed = `${fmt(Math.round(r.rowsCompared / seconds))} rows/s, ${(mb / seconds).toFixed(0)} MB/s`;
  return `${verdict}: ${size} verified in ${formatDuration(r.ms)} — ${speed}.`;
}

/** A multi-step command's report under its title, with the write pause when there was one. */
export function stepsReport(title: string): (r: { readonly steps: ReadonlyArray<StepResult>; readonly writePauseMs?: number }) => string {
  return (r) => {
    const pause = r.writePauseMs !== undefined ? `\n\nWrite pause (PgBouncer PAUSE → RESUME): ${r.writePauseMs} ms` : '';
    return `${title}\n${renderSteps(r.steps)}${pause}`;
  };
}

export const dryRunNote = (dryRun?: boolean) => (dryRun ? '\nDry run: nothing was changed.' : '');
