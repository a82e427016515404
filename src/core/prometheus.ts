/**
 * `status --prometheus`: the figures in Prometheus's text exposition format, for node_exporter's
 * textfile collector. Every metric has HELP and TYPE; label values are escaped; one sample a line.
 */
import { PHASES } from './phases.js';

export interface PrometheusInput {
  readonly phase: string;
  readonly serving: 'blue' | 'green' | 'unknown';
  readonly replication: ReadonlyArray<{
    readonly direction: string;
    readonly running: boolean;
    readonly lagBytes?: number;
    readonly lagSeconds?: number;
    readonly retainedBytes?: number;
    readonly error?: string;
  }>;
  readonly ddl?: ReadonlyArray<{ readonly side: string; readonly error?: string; readonly missed?: ReadonlyArray<unknown> }>;
  readonly pointerError?: string;
  readonly lastFlip?: { readonly kind: string; readonly writePauseMs?: number; readonly ok: boolean };
  readonly rollbackWindowLeftMs?: number;
  /** The next flip's verdict; `reason` when its replication lost WAL or its slot (not lossless whatever is carried). */
  readonly window?: { readonly verdict: string; readonly reason?: string; readonly error?: string };
  /** `bluegreen guard`'s last round. */
  readonly guard?: {
    readonly last: { readonly failures: number; readonly checks: ReadonlyArray<{ readonly name: string; readonly ok: boolean }> };
  };
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const dir = (d: string) => (d.startsWith('blue') ? 'blue_to_green' : 'green_to_blue');

export function toPrometheus(s: PrometheusInput): string {
  const out: string[] = [];
  const metric = (name: string, help: string, samples: ReadonlyArray<[Record<string, string>, number]>) => {
    if (!samples.length) return;
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',');
      out.push(`${name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 0}`);
    }
  };
  metric(
    'bluegreen_phase',
    'The cutover phase: 1 for the current one, 0 for the others.',
    PHASES.map((p) => [{ phase: p }, p === s.phase ? 1 : 0]),
  );
  metric(
    'bluegreen_serving',
    'Where the pointer sends traffic: 1 for that side.',
    (['blue', 'green', 'unknown'] as const).map((side) => [{ side }, s.serving === side ? 1 : 0]),
  );
  metric(
    'bluegreen_replication_running',
    'Whether the direction replicates (1) or not (0, failing or stopped).',
    s.replication.map((r) => [{ direction: dir(r.direction) }, r.running ? 1 : 0]),
  );
  metric(
    'bluegreen_replication_lag_bytes',
    'WAL the subscriber has not confirmed yet.',
    s.replication.filter((r) => r.lagBytes !== undefined).map((r) => [{ direction: dir(r.direction) }, r.lagBytes!]),
  );
  metric(
    'bluegreen_replication_lag_seconds',
    'How far behind the subscriber is, in time.',
    s.replication.filter((r) => r.lagSeconds !== undefined).map((r) => [{ direction: dir(r.direction) }, r.lagSeconds!]),
  );
  metric(
    'bluegreen_replication_retained_bytes',
    'WAL kept on the publisher for our slot.',
    s.replication.filter((r) => r.retainedBytes !== undefined).map((r) => [{ direction: dir(r.direction) }, r.retainedBytes!]),
  );
  if (s.lastFlip?.writePauseMs !== undefined)
    metric('bluegreen_last_write_pause_seconds', "The last flip's write pause (PgBouncer PAUSE to RESUME).", [
      [{ kind: s.lastFlip.kind }, s.lastFlip.writePauseMs / 1000],
    ]);
  if (s.rollbackWindowLeftMs !== undefined)
    metric('bluegreen_rollback_window_seconds_left', 'Seconds left in the rollback window (negative once it has closed).', [
      [{}, Math.round(s.rollbackWindowLeftMs / 1000)],
    ]);
  // Unknown (a side down) is no figure at all here, never 1: bluegreen_reading_ok says the reading failed.
  if (s.window && s.window.verdict !== 'unknown') {
    metric('bluegreen_next_flip_lossless', 'Whether the next flip would lose nothing (1) or would refuse without --accept-data-loss (0).', [
      [{}, s.window.verdict === 'lossless' ? 1 : 0],
    ]);
    metric(
      'bluegreen_next_flip_replication_lost',
      'Whether the replication keeping the standby current lost WAL it needed or its slot (1): the next flip is refused until reseed.',
      [[{}, s.window.reason ? 1 : 0]],
    );
  }
  if (s.guard) {
    metric(
      'bluegreen_guard_check_ok',
      "The guard's last round: whether each check passed (1) or failed (0).",
      s.guard.last.checks.map((c) => [{ check: c.name }, c.ok ? 1 : 0]),
    );
    metric('bluegreen_guard_failures', 'Failures the guard counts toward its rollback condition (in a row, or within the period).', [
      [{}, s.guard.last.failures],
    ]);
  }
  // A reading that failed shows as 0 here, so an alert can tell "unknown" from "fine" or "stopped".
  const readings: Array<[Record<string, string>, number]> = [
    [{ reading: 'pointer' }, s.serving === 'unknown' ? 0 : 1],
    ...s.replication.map((r): [Record<string, string>, number] => [{ reading: `replication_${dir(r.direction)}` }, r.error ? 0 : 1]),
    ...(s.window ? [[{ reading: 'next_flip_verdict' }, s.window.verdict === 'unknown' ? 0 : 1] as [Record<string, string>, number]] : []),
    ...(s.ddl ?? []).map((d): [Record<string, string>, number] => [{ reading: `ddl_log_${d.side}` }, d.error ? 0 : 1]),
  ];
  metric('bluegreen_reading_ok', 'Whether a reading succeeded (1) or failed and its figures are unknown (0).', readings);
  const missed = (s.ddl ?? []).filter((d) => !d.error);
  metric(
    'bluegreen_ddl_log_missed',
    'Schema changes the DDL log could not record since the last flip (each side).',
    missed.map((d) => [{ side: d.side }, d.missed?.length ?? 0]),
  );
  return `${out.join('\n')}\n`;
}
