/**
 * `bluegreen watch`: status every interval until interrupted, as a live view on a terminal (redrawn in
 * place) or one line per interval otherwise (a log, a pipe). Every reading is also kept as a lag
 * sample for the report (status does that).
 */
import type { Deps } from './context.js';
import { _status, type StatusResult } from './status.js';

/** Lag readings so far, per direction, newest last (for the sparkline). */
export type LagHistory = ReadonlyMap<string, ReadonlyArray<number>>;

export interface WatchOptions {
  readonly intervalMs: number;
  /** Stop after this many readings (default: until interrupted). */
  readonly count?: number;
  readonly tty: boolean;
  readonly write: (text: string) => void;
  /** Aborted on SIGINT: the loop ends after the current reading. */
  readonly signal?: AbortSignal;
  readonly frame: (status: StatusResult, history: LagHistory, now: number) => string;
  readonly line: (status: StatusResult, now: number) => string;
}

export async function _watch(deps: Deps, options: WatchOptions): Promise<{ ok: true; readings: number }> {
  const history = new Map<string, number[]>();
  let readings = 0;
  while (!options.signal?.aborted && (options.count === undefined || readings < options.count)) {
    const status = await _status(deps);
    readings++;
    for (const r of status.replication) {
      // An unreadable direction is a gap, not a zero lag.
      if (r.error) continue;
      const h = history.get(r.direction) ?? [];
      h.push(r.lagBytes ?? 0);
      history.set(r.direction, h.slice(-40));
    }
    const now = deps.clock.now().getTime();
    if (options.tty) options.write(`\x1b[H\x1b[2J${options.frame(status, history, now)}\n`);
    else options.write(`${options.line(status, now)}\n`);
    if (options.count !== undefined && readings >= options.count) break;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.intervalMs);
      options.signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
  return { ok: true, readings };
}
