/**
 * The guard in the cutover report: each check's outcome over time (a strip per check, a window's
 * worth of rounds folded into at most 300 columns, a column red when any round in it failed), and
 * every decision that was not routine: the rollback the guard made, a refusal, a deferral. Pure.
 */
import type { GuardRound } from './guard.js';

export interface GuardReport {
  readonly rounds: number;
  readonly from?: string;
  readonly to?: string;
  /** Per check: one entry a column, true when every round in it passed (null: not run then). */
  readonly checks: ReadonlyArray<{
    readonly name: string;
    readonly builtin: boolean;
    readonly columns: ReadonlyArray<boolean | null>;
    readonly failed: number;
  }>;
  /** Rounds the guard acted on, or would have: rolled back, refused, deferred, a failed rollback. */
  readonly decisions: ReadonlyArray<{ readonly at: string; readonly decision: string; readonly by: string; readonly detail?: string }>;
}

const MAX_COLUMNS = 300;
const NOTABLE = new Set(['rolled-back', 'refused', 'deferred', 'rollback-failed']);

export function buildGuardReport(rounds: ReadonlyArray<GuardRound>): GuardReport | undefined {
  if (!rounds.length) return undefined;
  const sorted = [...rounds].sort((a, b) => a.at.localeCompare(b.at));
  const per = Math.ceil(sorted.length / MAX_COLUMNS);
  const buckets = Array.from({ length: Math.ceil(sorted.length / per) }, (_, i) => sorted.slice(i * per, (i + 1) * per));
  const names = new Map<string, boolean>();
  for (const r of sorted) for (const c of r.checks) names.set(c.name, !!c.builtin);
  const checks = [...names].map(([name, builtin]) => {
    const columns = buckets.map((b) => {
      const outcomes = b.flatMap((r) => r.checks.filter((c) => c.name === name));
      return outcomes.length ? outcomes.every((c) => c.ok) : null;
    });
    const failed = sorted.filter((r) => r.checks.some((c) => c.name === name && !c.ok)).length;
    return { name, builtin, columns, failed };
  });
  const decisions = sorted
    .filter((r) => NOTABLE.has(r.decision))
    .map((r) => ({ at: r.at, decision: r.decision, by: r.by, detail: r.detail }));
  return { rounds: sorted.length, from: sorted[0].at, to: sorted.at(-1)!.at, checks, decisions };
}

const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The section's HTML: the strips as inline SVG, then the decisions. */
export function renderGuardSection(g: GuardReport | undefined): string {
  if (!g) return '<p class="empty" id="guard">No guard ran in this cutover (`bluegreen guard`).</p>';
  const width = 900;
  const row = 20;
  const cols = Math.max(...g.checks.map((c) => c.columns.length), 1);
  const cell = (width - 170) / cols;
  const strips = g.checks.map((c, i) => {
    const cells = c.columns.map((ok, j) =>
      ok === null
        ? ''
        : `<rect class="${ok ? 'g-ok' : 'g-fail'}" x="${(160 + j * cell).toFixed(1)}" y="${i * row + 4}" ` +
          `width="${Math.max(cell, 1).toFixed(2)}" height="14"/>`,
    );
    const label = `<text x="4" y="${i * row + 15}">${esc(c.name)}${c.builtin ? ' (alerts)' : ''}</text>`;
    return `<g class="guard-check">${label}${cells.join('')}<title>${esc(c.name)}: failed in ${c.failed} of ${g.rounds} rounds</title></g>`;
  });
  const axisY = g.checks.length * row + 18;
  const svg =
    `<svg id="guard-chart" class="chart" viewBox="0 0 ${width} ${g.checks.length * row + 24}" role="img" ` +
    `aria-label="the guard's checks over time">${strips.join('')}` +
    `<text class="axis" x="160" y="${axisY}">${esc(g.from)}</text>` +
    `<text class="axis" x="${width - 10}" y="${axisY}" text-anchor="end">${esc(g.to)}</text></svg>`;
  const rows = g.decisions
    .map(
      (d) =>
        `<tr><td>${esc(d.at)}</td><td class="${d.decision === 'rolled-back' ? 'ok' : 'bad'}">${esc(d.decision)}</td>` +
        `<td>${esc(d.by)}</td><td>${esc(d.detail)}</td></tr>`,
    )
    .join('');
  const head = '<thead><tr><th>at</th><th>decision</th><th>by</th><th>why</th></tr></thead>';
  const table = g.decisions.length
    ? `<table id="guard-decisions">${head}<tbody>${rows}</tbody></table>`
    : '<p class="empty">The guard never acted: its condition did not hold.</p>';
  return `<p class="meta" id="guard">${g.rounds} rounds from ${esc(g.from)} to ${esc(g.to)}.</p>${svg}${table}`;
}

/** Styles for the section, added to the page's. */
export const GUARD_STYLE = '.g-ok{fill:#86efac}.g-fail{fill:#dc2626}';
