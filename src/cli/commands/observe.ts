/** The commands that watch a cutover: status, report, watch and guard. */
import { toPrometheus } from '../../core/prometheus.js';
import { guard, type GuardResult } from '../../commands/guard.js';
import { _report } from '../../commands/report.js';
import { _status } from '../../commands/status.js';
import { _watch } from '../../commands/watch.js';
import { configOption, cutoverIdSchema, dryRunOption, flag, jsonOption, pathSchema, wholeNumber } from '../options.js';
import { defineCommand } from '../register.js';
import { dryRunNote, renderStatus, renderWatchFrame, renderWatchLine } from '../render.js';

const PROM_FILE = '/var/lib/node_exporter/bluegreen.prom';

export const statusCommand = defineCommand({
  name: 'status',
  description: 'phase, what serves, the rollback window, the last flip',
  options: {
    config: configOption(),
    json: jsonOption(),
    prometheus: flag('--prometheus', "print the figures in the Prometheus text format (for node_exporter's textfile collector)"),
  },
  helpAfter: `
Every minute into node_exporter's textfile folder (cron):
  * * * * * bluegreen status --prometheus --config /etc/bluegreen/config.json > ${PROM_FILE}.$$ && mv ${PROM_FILE}.$$ ${PROM_FILE}`,
  action: (cli, o) =>
    cli.execute(
      o,
      async (deps) => ({ ok: true as const, ...(await _status(deps)) }),
      (r) => (o.prometheus ? toPrometheus(r).trimEnd() : renderStatus(r, Date.now())),
    ),
});

export const reportCommand = defineCommand({
  name: 'report',
  description: 'write one self-contained HTML page of a cutover: timeline, pauses, lag, compare, migrations, verdict',
  options: {
    config: configOption(),
    json: jsonOption(),
    out: { flags: '--out <file>', description: 'where to write the page', schema: pathSchema('file'), default: 'cutover.html' },
    cutover: {
      flags: '--cutover <id>',
      description: 'an earlier cutover of this state folder (default: the current one)',
      schema: cutoverIdSchema.optional(),
    },
  },
  action: (cli, o) =>
    cli.execute(
      o,
      (deps) => _report(deps, { out: o.json ? undefined : o.out, cutover: o.cutover }),
      (r) => `Report of cutover ${r.data.cutover} written to ${r.file} (open it in a browser; it needs no network, and prints well).`,
    ),
});

/** Runs `work` with a signal that the given process signals abort; the listeners go when it ends. */
async function untilSignalled(signals: ReadonlyArray<NodeJS.Signals>, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  for (const s of signals) process.once(s, onSignal);
  try {
    await work(stop.signal);
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

export const watchCommand = defineCommand({
  name: 'watch',
  description: 'refresh the status every second until interrupted (one line per reading when not on a terminal)',
  options: {
    config: configOption(),
    interval: { flags: '--interval <ms>', description: 'time between readings', schema: wholeNumber(100), default: 1000 },
    count: { flags: '--count <n>', description: 'stop after this many readings', schema: wholeNumber(1).optional() },
  },
  action: (cli, o) =>
    untilSignalled(['SIGINT'], (signal) =>
      cli.execute(
        o,
        (deps) =>
          _watch(deps, {
            intervalMs: o.interval,
            count: o.count,
            tty: !!process.stdout.isTTY,
            write: cli.write,
            signal,
            frame: renderWatchFrame,
            line: renderWatchLine,
          }),
        () => '',
      ),
    ),
});

export const guardCommand = defineCommand({
  name: 'guard',
  description: 'watch the serving side during the rollback window; roll back (losslessly) when its checks keep failing',
  options: {
    config: configOption(),
    json: jsonOption(),
    dryRun: dryRunOption(),
    once: flag(
      '--once',
      'evaluate one round and exit with its verdict: ' +
        '0 healthy, 1 a check failing, 2 nothing to guard, 3 refused or deferred, 4 rolled back',
    ),
    exitAfterAction: flag('--exit-after-action', 'exit (code 4) once it has rolled back, instead of guarding on'),
  },
  // A signal ends the loop between rounds: a rollback under way is finished, never cut.
  action: (cli, o) =>
    untilSignalled(['SIGINT', 'SIGTERM'], (signal) =>
      cli.execute(
        o,
        (deps) => guard(deps, { once: o.once, dryRun: o.dryRun, exitAfterAction: o.exitAfterAction, signal }),
        (r) => renderGuard(r) + dryRunNote(o.dryRun),
      ),
    ),
});

function renderGuard(r: GuardResult): string {
  const checks = (r.last?.checks ?? []).map(
    (c) => `  ${c.ok ? '✔' : '✖'} ${c.name}${c.builtin ? ' (built-in, alerts only)' : ''} ${c.ms} ms${c.detail ? `: ${c.detail}` : ''}`,
  );
  return `guard: ${r.verdict}${r.detail ? `: ${r.detail}` : ''}${r.last ? `\n${checks.join('\n')}` : ''}`;
}
