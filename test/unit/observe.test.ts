/** The report model, the Prometheus text, the notify events and the watch sparkline: pure parts. */
import { describe, expect, it } from 'vitest';
import { buildReport, renderReportHtml } from '../../src/core/cutover-report.js';
import { eventOfAudit, eventsOfSave } from '../../src/core/events.js';
import { toPrometheus } from '../../src/core/prometheus.js';
import { advance, type AuditEntry, newCutover } from '../../src/core/state.js';
import { sparkline } from '../../src/cli/render.js';
import { parsePrometheus } from '../support/prometheus.js';

describe('observability, pure parts', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 10, 22, 10, 0, s)).toISOString();
  let state = newCutover('20261122T100000-abcd', 'replicate', at(0), 'ops@bastion');
  state = advance(state, 'clone-started', at(1), 'ops@bastion');
  const afterClone = advance(state, 'clone-finished', at(5), 'ops@bastion');

  it('turns each save into the phase changes and flips it recorded, in order, and failures from the audit log', () => {
    expect(eventsOfSave(undefined, state).map((e) => e.type === 'phase' && `${e.from}→${e.to}`)).toEqual(['idle→cloning']);
    const flipped = advance(advance(afterClone, 'switchover-started', at(6), 'ops'), 'switchover-finished', at(7), 'ops', {
      flips: [{ kind: 'switchover', at: at(7), by: 'ops', ok: true, writePauseMs: 14, steps: [] }],
    });
    expect(eventsOfSave(afterClone, flipped).map((e) => (e.type === 'phase' ? `${e.from}→${e.to}` : `${e.type} ${'kind' in e ? e.kind : ''}`))).toEqual(['ready→switching-over', 'switching-over→switched-over', 'flip switchover']);
    expect(eventOfAudit({ at: at(8), by: 'ops', command: 'finalize', outcome: 'blocked', detail: 'inside the window' })).toMatchObject({ type: 'failure', outcome: 'blocked' });
    expect(eventOfAudit({ at: at(8), by: 'ops', command: 'status', outcome: 'ok' })).toBeUndefined();
  });

  it('builds the report: commands paired with their ends, the page self-contained and escaped', () => {
    const audit: AuditEntry[] = [
      { at: at(1), by: 'ops', command: 'clone', cutover: state.id, outcome: 'started' },
      { at: at(5), by: 'ops', command: 'clone', cutover: state.id, outcome: 'ok' },
      { at: at(6), by: 'ops', command: 'switchover', cutover: state.id, outcome: 'started' },
    ];
    const flipState = { ...afterClone, flips: [{ kind: 'switchover' as const, at: at(7), by: 'ops', ok: true, writePauseMs: 14, steps: [{ name: 'pause', status: 'ok' as const, ms: 3 }, { name: 'flip', status: 'ok' as const, ms: 2 }, { name: 'resume', status: 'ok' as const, ms: 1 }] }] };
    const data = buildReport({
      state: flipState,
      audit,
      lag: [{ at: at(3), direction: 'blue → green', lagBytes: 2048 }, { at: at(4), direction: 'blue → green', lagBytes: 0 }],
      compare: { at: at(5), ok: false, tables: [{ table: 'public.orders', blueRows: 3, greenRows: 2, status: 'differs', differences: [{ key: { id: '<b>7</b>' }, kind: 'missing-on-green' }] }] },
      migrations: [{ version: '0001', name: 'add_leverage', checksum: 'a'.repeat(64) }],
      verdict: { next: 'rollback', verdict: 'lossless', losses: [] },
      generatedAt: at(9),
    });
    expect(data.commands).toEqual([
      { at: at(1), by: 'ops', command: 'clone', outcome: 'ok', ms: 4000, detail: undefined },
      { at: at(6), by: 'ops', command: 'switchover', outcome: 'interrupted' },
    ]);
    const html = renderReportHtml(data);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|https?:\/\//);
    expect(html).toContain('id="timeline"');
    expect(html).toMatch(/<path class="lag lag-0" d="M[\d.]+,[\d.]+ L[\d.]+,[\d.]+"/);
    expect(html).toContain('write pause 14 ms');
    expect(html).toContain('&lt;b&gt;7&lt;/b&gt;');
    expect(html).toContain('@media print');
  });

  it('pairs an ending with the latest start of its command: one killed before it stays interrupted', () => {
    const audit: AuditEntry[] = [
      { at: at(1), by: 'guard ops', command: 'rollback', cutover: state.id, outcome: 'started' },
      { at: at(4), by: 'guard ops', command: 'rollback', cutover: state.id, outcome: 'started' },
      { at: at(6), by: 'guard ops', command: 'rollback', cutover: state.id, outcome: 'ok' },
    ];
    const data = buildReport({ state: afterClone, audit, lag: [], migrations: [], generatedAt: at(9) });
    expect(data.commands).toEqual([
      { at: at(1), by: 'guard ops', command: 'rollback', outcome: 'interrupted' },
      { at: at(4), by: 'guard ops', command: 'rollback', outcome: 'ok', ms: 2000, detail: undefined },
    ]);
  });

  it('prints Prometheus text a strict reader accepts, with the figures status has', () => {
    const text = toPrometheus({
      phase: 'switched-over', serving: 'green',
      replication: [{ direction: 'green → blue', running: true, lagBytes: 4096, lagSeconds: 0.2, retainedBytes: 65536 }],
      lastFlip: { kind: 'switchover', ok: true, writePauseMs: 14 },
      rollbackWindowLeftMs: 3_600_000, window: { verdict: 'lossless' },
    });
    const samples = parsePrometheus(text);
    const one = (name: string, labels: Record<string, string> = {}) => samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(one('bluegreen_phase', { phase: 'switched-over' })).toBe(1);
    expect(one('bluegreen_phase', { phase: 'ready' })).toBe(0);
    expect(one('bluegreen_serving', { side: 'green' })).toBe(1);
    expect(one('bluegreen_replication_lag_bytes', { direction: 'green_to_blue' })).toBe(4096);
    expect(one('bluegreen_replication_retained_bytes', { direction: 'green_to_blue' })).toBe(65536);
    expect(one('bluegreen_last_write_pause_seconds')).toBe(0.014);
    expect(one('bluegreen_rollback_window_seconds_left')).toBe(3600);
    expect(one('bluegreen_next_flip_lossless')).toBe(1);
  });

  it('draws a sparkline scaled to the largest reading', () => {
    expect(sparkline([0, 50, 100])).toBe('▁▄█');
    expect(sparkline([])).toBe('');
  });
});
