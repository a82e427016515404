/**
 * The cutover report: one value built from the record, the audit log, the lag samples, the last
 * compare and the migrations applied, and a self-contained HTML page of it (styles inline, charts as
 * inline SVG, no script, no network): the timeline of every command with its steps, each flip's write
 * pause drawn against its steps, replication lag over time, the compare table with differing keys,
 * migrations with their checksums, who ran what, and the verdict on the rollback window. Pure.
 */
import type { StepResult } from './report.js';
import type { AuditEntry, CutoverState } from './state.js';
import type { GuardRound } from './guard.js';
import { buildGuardReport, GUARD_STYLE, type GuardReport, renderGuardSection } from './guard-report.js';

export interface LagPoint {
  readonly at: string;
  readonly direction: string;
  readonly lagBytes?: number;
  readonly lagSeconds?: number;
  readonly retainedBytes?: number;
}

export interface ReportInput {
  readonly state: CutoverState;
  readonly audit: ReadonlyArray<AuditEntry>;
  readonly lag: ReadonlyArray<LagPoint>;
  readonly compare?: {
    readonly at: string;
    readonly ok: boolean;
    readonly tables: ReadonlyArray<{
      readonly table: string;
      readonly blueRows: number | null;
      readonly greenRows: number | null;
      readonly status: string;
      readonly differences?: ReadonlyArray<{
        readonly key: Readonly<Record<string, string>>;
        readonly kind: string;
        readonly columns?: ReadonlyArray<string>;
      }>;
    }>;
  };
  readonly migrations: ReadonlyArray<{
    readonly version: string;
    readonly name: string;
    readonly checksum: string;
    readonly appliedAt?: string;
    readonly appliedBy?: string;
    readonly unchecked?: string;
  }>;
  /** The window's verdict as status reads it now, when something replicates. */
  readonly verdict?: {
    readonly next: string;
    readonly verdict: string;
    /** Why it is not lossless whatever is carried (a lost slot), in lostSlotRefusal's words. */
    readonly reason?: string;
    readonly losses: ReadonlyArray<{ readonly object: string; readonly what: string }>;
  };
  /** "unknown: why" when green's migration history could not be read (the list is then unknown, not empty). */
  readonly migrationsError?: string;
  /** "unknown: why" when the verdict could not be judged now. */
  readonly verdictError?: string;
  readonly generatedAt: string;
  /** `bluegreen guard`'s rounds in this cutover. */
  readonly guard?: ReadonlyArray<GuardRound>;
}

export interface ReportData {
  readonly cutover: string;
  readonly mode: string;
  readonly phase: string;
  readonly serving: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly generatedAt: string;
  /** Every command run, in order, with who ran it and how it ended. */
  readonly commands: ReadonlyArray<{
    readonly at: string;
    readonly by: string;
    readonly command: string;
    readonly outcome: string;
    readonly ms?: number;
    readonly detail?: string;
  }>;
  readonly phases: ReadonlyArray<{ readonly at: string; readonly event: string; readonly phase: string; readonly by: string }>;
  readonly flips: ReadonlyArray<{
    readonly kind: string;
    readonly at: string;
    readonly by: string;
    readonly ok: boolean;
    readonly writePauseMs?: number;
    readonly steps: ReadonlyArray<StepResult>;
    readonly error?: string;
    readonly acceptedLosses?: ReadonlyArray<{ readonly object: string; readonly what: string }>;
  }>;
  readonly lag: ReadonlyArray<LagPoint>;
  readonly compare?: ReportInput['compare'];
  readonly migrations: ReportInput['migrations'];
  readonly rollbackWindowEndsAt?: string;
  readonly verdict?: ReportInput['verdict'];
  readonly guard?: GuardReport;
  readonly migrationsError?: string;
  readonly verdictError?: string;
}

/** Pairs each command's `started` entry with its ending to give its duration. */
export function buildReport(input: ReportInput): ReportData {
  const { state } = input;
  const commands: Array<ReportData['commands'][number]> = [];
  const open: AuditEntry[] = [];
  for (const e of input.audit) {
    if (e.outcome === 'started') {
      open.push(e);
      continue;
    }
    // The latest start of the same command by the same hand: an earlier one whose process was killed
    // stays open (interrupted) instead of taking this ending and shifting every later one.
    let i = open.length - 1;
    while (i >= 0 && !(open[i].command === e.command && open[i].by === e.by)) i--;
    const start = i >= 0 ? open.splice(i, 1)[0] : undefined;
    commands.push({
      at: start?.at ?? e.at,
      by: e.by,
      command: e.command,
      outcome: e.outcome,
      ms: start ? Date.parse(e.at) - Date.parse(start.at) : undefined,
      detail: e.detail,
    });
  }
  for (const s of open) commands.push({ at: s.at, by: s.by, command: s.command, outcome: 'interrupted' });
  commands.sort((a, b) => a.at.localeCompare(b.at));
  return {
    cutover: state.id,
    mode: state.mode,
    phase: state.phase,
    serving: state.serving,
    createdAt: state.createdAt,
    createdBy: state.createdBy,
    generatedAt: input.generatedAt,
    commands,
    phases: state.history,
    flips: state.flips,
    lag: [...input.lag].sort((a, b) => a.at.localeCompare(b.at)),
    compare: input.compare,
    migrations: input.migrations,
    rollbackWindowEndsAt: state.rollbackWindowEndsAt,
    verdict: input.verdict,
    guard: buildGuardReport(input.guard ?? []),
    ...(input.migrationsError ? { migrationsError: input.migrationsError } : {}),
    ...(input.verdictError ? { verdictError: input.verdictError } : {}),
  };
}

const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const fmtMs = (ms?: number) => (ms === undefined ? '' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
const fmtBytes = (n?: number) =>
  n === undefined ? '' : n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(0)} kB` : `${(n / 1048576).toFixed(1)} MB`;

/** The timeline of commands: one bar per command on a time axis (its length when it took long enough to see). */
function timelineSvg(d: ReportData): string {
  if (!d.commands.length) return '<p class="empty">No command recorded.</p>';
  const t0 = Date.parse(d.commands[0].at);
  const t1 = Math.max(...d.commands.map((c) => Date.parse(c.at) + (c.ms ?? 0)), t0 + 1);
  const width = 900;
  const row = 22;
  const x = (t: number) => 160 + ((t - t0) / (t1 - t0)) * (width - 170);
  const bars = d.commands.map((c, i) => {
    const start = Date.parse(c.at);
    const w = Math.max(3, x(start + (c.ms ?? 0)) - x(start));
    const cls = c.outcome === 'ok' ? 'ok' : c.outcome === 'dry-run' ? 'dry' : 'bad';
    const title = `${esc(c.command)} by ${esc(c.by)} at ${esc(c.at)}: ${esc(c.outcome)} ${esc(fmtMs(c.ms))}`;
    return (
      `<g class="cmd ${cls}"><text x="4" y="${i * row + 15}">${esc(c.command)}</text>` +
      `<rect x="${x(start).toFixed(1)}" y="${i * row + 4}" width="${w.toFixed(1)}" height="14" rx="2"><title>${title}</title></rect></g>`
    );
  });
  const axisY = d.commands.length * row + 18;
  return (
    `<svg id="timeline" class="chart" viewBox="0 0 ${width} ${d.commands.length * row + 24}" role="img" ` +
    'aria-label="timeline of commands">' +
    `${bars.join('')}<text class="axis" x="160" y="${axisY}">${esc(d.commands[0].at)}</text>` +
    `<text class="axis" x="${width - 10}" y="${axisY}" text-anchor="end">${esc(new Date(t1).toISOString())}</text></svg>`
  );
}

/** A flip's steps on their own time axis, the write pause (PAUSE → RESUME) drawn across them. */
function flipSvg(f: ReportData['flips'][number], index: number): string {
  const width = 900;
  const row = 18;
  let t = 0;
  const spans = f.steps.map((s) => {
    const span = { s, start: t, end: t + s.ms };
    t += s.ms;
    return span;
  });
  const total = Math.max(t, 1);
  const x = (ms: number) => 200 + (ms / total) * (width - 210);
  const pauseStart = spans.find((p) => p.s.name === 'pause')?.start;
  const pauseEnd = spans.find((p) => p.s.name === 'resume')?.end;
  const bars = spans.map(
    (p, i) =>
      `<g class="step ${esc(p.s.status)}"><text x="4" y="${i * row + 13}">${esc(p.s.name)}</text>` +
      `<rect x="${x(p.start).toFixed(1)}" y="${i * row + 3}" width="${Math.max(2, x(p.end) - x(p.start)).toFixed(1)}" height="12">` +
      `<title>${esc(p.s.name)}: ${esc(p.s.status)} ${p.s.ms} ms ${esc(p.s.detail ?? '')}</title></rect></g>`,
  );
  const pause =
    pauseStart !== undefined && pauseEnd !== undefined && f.writePauseMs !== undefined
      ? `<rect class="pause" x="${x(pauseStart).toFixed(1)}" y="0" width="${Math.max(2, x(pauseEnd) - x(pauseStart)).toFixed(1)}" ` +
        `height="${spans.length * row + 4}"><title>write pause ${f.writePauseMs} ms</title></rect>` +
        `<text class="pause-label" x="${x(pauseStart).toFixed(1)}" y="${spans.length * row + 16}">write pause ${f.writePauseMs} ms</text>`
      : '';
  return (
    `<svg id="flip-${index}" class="chart flip" viewBox="0 0 ${width} ${spans.length * row + 22}" role="img" ` +
    `aria-label="${esc(f.kind)} steps and write pause">${pause}${bars.join('')}</svg>`
  );
}

/** Lag over time, one line per direction. */
function lagSvg(d: ReportData): string {
  const points = d.lag.filter((p) => p.lagBytes !== undefined);
  if (!points.length) return '<p class="empty" id="lag-chart-empty">No lag sampled yet (status and watch sample it).</p>';
  const width = 900;
  const height = 220;
  const t0 = Date.parse(points[0].at);
  const t1 = Math.max(Date.parse(points[points.length - 1].at), t0 + 1);
  const max = Math.max(...points.map((p) => p.lagBytes!), 1);
  const x = (t: string) => 60 + ((Date.parse(t) - t0) / (t1 - t0)) * (width - 70);
  const y = (b: number) => height - 24 - (b / max) * (height - 40);
  const lines = [...new Set(points.map((p) => p.direction))].map((dir, i) => {
    const ps = points.filter((p) => p.direction === dir);
    const path = ps.map((p, j) => `${j ? 'L' : 'M'}${x(p.at).toFixed(1)},${y(p.lagBytes!).toFixed(1)}`).join(' ');
    return (
      `<path class="lag lag-${i}" d="${path}"><title>${esc(dir)}</title></path>` +
      `<text class="legend lag-${i}" x="${70 + i * 160}" y="14">${esc(dir)}</text>`
    );
  });
  return (
    `<svg id="lag-chart" class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="replication lag over time">` +
    `<line class="axis-line" x1="60" y1="${height - 24}" x2="${width - 10}" y2="${height - 24}"/>` +
    `<text class="axis" x="56" y="${y(max) + 4}" text-anchor="end">${esc(fmtBytes(max))}</text>` +
    `<text class="axis" x="56" y="${height - 20}" text-anchor="end">0</text>${lines.join('')}` +
    `<text class="axis" x="60" y="${height - 6}">${esc(points[0].at)}</text>` +
    `<text class="axis" x="${width - 10}" y="${height - 6}" text-anchor="end">${esc(points[points.length - 1].at)}</text></svg>`
  );
}

/** The page's style sheet, one rule group a line (the page is self-contained: no external CSS). */
const STYLE = [
  '',
  'body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330;margin:2rem auto;max-width:960px;padding:0 1rem}',
  'h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d5d9e0;padding-bottom:.2rem}',
  '.meta{color:#5a6272}table{border-collapse:collapse;width:100%;margin:.5rem 0}' +
    'th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #e6e9ee;vertical-align:top}',
  'th{background:#f3f5f8;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}' +
    '.ok{color:#1a7f37}.bad,.failed,.blocked,.differs{color:#b42318}',
  '.chart{width:100%;height:auto;margin:.5rem 0}.chart text{font-size:11px;fill:#1d2330}.chart .axis{fill:#5a6272}',
  '.cmd.ok rect,.step.ok rect{fill:#3b82f6}.cmd.bad rect,.step.failed rect{fill:#dc2626}' +
    '.cmd.dry rect,.step.skipped rect{fill:#cbd5e1}',
  '.pause{fill:#fde68a;opacity:.7}.pause-label{fill:#92400e!important;font-weight:600}',
  '.lag{fill:none;stroke-width:2}.lag-0{stroke:#2563eb;fill:#2563eb}.lag-1{stroke:#d97706;fill:#d97706}' +
    'path.lag-0,path.lag-1{fill:none}.axis-line{stroke:#94a3b8}',
  '.verdict{padding:.6rem .8rem;border-radius:6px;background:#ecfdf3;border:1px solid #abefc6}' +
    '.verdict.lossy{background:#fef3f2;border-color:#fecdca}',
  '.empty{color:#5a6272;font-style:italic}code{font-family:ui-monospace,Menlo,monospace;font-size:12px}',
  '@media print{body{margin:0;max-width:none}h2{break-after:avoid}svg,table{break-inside:avoid}}',
  '',
].join('\n');

function verdictSection(d: ReportData): string {
  if (d.verdict) {
    const v = d.verdict;
    const losses = v.losses.length
      ? `<ul>${v.losses.map((l) => `<li><code>${esc(l.object)}</code>: ${esc(l.what)}</li>`).join('')}</ul>`
      : '';
    const heading = `<strong>${esc(v.next)}: ${esc(v.verdict)}</strong>`;
    const reason = v.reason ? `<p>${esc(v.reason)}</p>` : '';
    return `<div class="verdict ${v.verdict === 'lossless' ? '' : 'lossy'}" id="verdict">${heading}${reason}${losses}</div>`;
  }
  return d.verdictError
    ? `<div class="verdict lossy" id="verdict"><strong>${esc(d.verdictError)}</strong></div>`
    : '<p class="empty" id="verdict">Nothing replicates now: no rollback verdict.</p>';
}

function commandsTable(d: ReportData): string {
  const rows = d.commands
    .map(
      (c) =>
        `<tr><td>${esc(c.at)}</td><td>${esc(c.command)}</td><td>${esc(c.by)}</td>` +
        `<td class="${c.outcome === 'ok' ? 'ok' : 'bad'}">${esc(c.outcome)}${c.detail ? `: ${esc(c.detail)}` : ''}</td>` +
        `<td class="num">${esc(fmtMs(c.ms))}</td></tr>`,
    )
    .join('');
  const head = '<thead><tr><th>at</th><th>command</th><th>by</th><th>outcome</th><th>took</th></tr></thead>';
  return `<table id="commands">${head}<tbody>${rows}</tbody></table>`;
}

function flipsSection(d: ReportData): string {
  if (!d.flips.length) return '<p class="empty">No flip yet.</p>';
  return d.flips
    .map((f, i) => {
      const done = f.ok ? '<span class="ok">done</span>' : '<span class="bad">undone</span>';
      const pause = f.writePauseMs !== undefined ? `, writes paused ${f.writePauseMs} ms` : '';
      const error = f.error ? `<p class="bad">${esc(f.error)}</p>` : '';
      const accepted = f.acceptedLosses?.length
        ? `<p class="bad">Accepted loss: ${f.acceptedLosses.map((l) => `<code>${esc(l.object)}</code>`).join(', ')}</p>`
        : '';
      return `<h3>${esc(f.kind)} at ${esc(f.at)} by ${esc(f.by)}: ${done}${pause}</h3>${error}${accepted}${flipSvg(f, i)}`;
    })
    .join('');
}

type ComparedTable = NonNullable<ReportData['compare']>['tables'][number];

/** The differing keys of one table, one a line: `id=7 differs (price)`. */
function differingKeys(t: ComparedTable): string {
  return (t.differences ?? [])
    .map((x) => {
      const key = Object.entries(x.key)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ');
      return `<code>${esc(key)}</code> ${esc(x.kind)}${x.columns?.length ? ` (${esc(x.columns.join(', '))})` : ''}`;
    })
    .join('<br>');
}

function compareSection(d: ReportData): string {
  if (!d.compare) return '<p class="empty">No compare recorded for this cutover.</p>';
  const rows = d.compare.tables
    .map(
      (t) =>
        `<tr><td><code>${esc(t.table)}</code></td>` +
        `<td class="num">${esc(t.blueRows ?? '—')}</td><td class="num">${esc(t.greenRows ?? '—')}</td>` +
        `<td class="${esc(t.status)}">${esc(t.status)}</td><td>${differingKeys(t)}</td></tr>`,
    )
    .join('');
  const outcome = d.compare.ok ? '<span class="ok">no difference</span>' : '<span class="bad">differences found</span>';
  return (
    `<p class="meta">At ${esc(d.compare.at)}: ${outcome}.</p>` +
    '<table id="compare"><thead><tr><th>table</th><th>blue rows</th><th>green rows</th><th>status</th>' +
    '<th>differing keys</th></tr></thead>' +
    `<tbody>${rows}</tbody></table>`
  );
}

function migrationsSection(d: ReportData): string {
  if (!d.migrations.length) {
    return d.migrationsError
      ? `<p class="empty" id="migrations">${esc(d.migrationsError)}</p>`
      : '<p class="empty">None recorded by the built-in runner.</p>';
  }
  const rows = d.migrations
    .map(
      (m) =>
        `<tr><td>${esc(m.version)}</td><td>${esc(m.name)}${m.unchecked ? ` <em>(unchecked: ${esc(m.unchecked)})</em>` : ''}</td>` +
        `<td><code>${esc(m.checksum.slice(0, 16))}…</code></td><td>${esc(m.appliedAt ?? '')}</td><td>${esc(m.appliedBy ?? '')}</td></tr>`,
    )
    .join('');
  return (
    '<table id="migrations"><thead><tr><th>version</th><th>name</th><th>sha256</th><th>applied</th><th>by</th></tr></thead>' +
    `<tbody>${rows}</tbody></table>`
  );
}

function phasesTable(d: ReportData): string {
  const rows = d.phases
    .map((p) => `<tr><td>${esc(p.at)}</td><td>${esc(p.event)}</td><td>${esc(p.phase)}</td><td>${esc(p.by)}</td></tr>`)
    .join('');
  return `<table id="phases"><thead><tr><th>at</th><th>event</th><th>phase</th><th>by</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** The page: self-contained, readable printed. */
export function renderReportHtml(d: ReportData): string {
  const window = d.rollbackWindowEndsAt ? ` · rollback window until ${esc(d.rollbackWindowEndsAt)}` : '';
  const meta =
    `${esc(d.mode)} mode · phase <strong>${esc(d.phase)}</strong> · ${esc(d.serving)} serves · ` +
    `started ${esc(d.createdAt)} by ${esc(d.createdBy)}${window} · report made ${esc(d.generatedAt)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Cutover ${esc(d.cutover)}: pg-bluegreen report</title><style>${STYLE}${GUARD_STYLE}</style></head>
<body>
<h1>Cutover ${esc(d.cutover)}</h1>
<p class="meta">${meta}</p>
<h2>Rollback window</h2>${verdictSection(d)}
<h2>Timeline</h2>${timelineSvg(d)}
${commandsTable(d)}
<h2>Flips</h2>${flipsSection(d)}
<h2>Guard</h2>${renderGuardSection(d.guard)}
<h2>Replication lag</h2>${lagSvg(d)}
<h2>Last compare</h2>${compareSection(d)}
<h2>Migrations applied to green</h2>${migrationsSection(d)}
<h2>Phases</h2>${phasesTable(d)}
</body></html>
`;
}
