/**
 * The notify hook: `"notify": { "command": "..." }` runs on every event of a cutover with the event as
 * JSON on stdin and BLUEGREEN_EVENT set to its type, in the config's folder, with a timeout. A hook that
 * fails is reported, never fatal, and its output is redacted.
 */
import { runShell } from './shell.js';
import { type CutoverEvent, eventOfAudit, eventsOfSave } from '../core/events.js';
import { redact } from '../core/redact.js';
import type { StateStore } from './state-store.js';

export interface NotifyConfig {
  readonly command: string;
  readonly timeoutMs: number;
  readonly cwd: string;
  readonly secrets: ReadonlyArray<string>;
  /** Where a failing hook is reported (the progress output). */
  readonly warn: (text: string) => void;
}

export async function runNotify(config: NotifyConfig, event: CutoverEvent): Promise<void> {
  const payload = redact(JSON.stringify(event), config.secrets);
  const options = { cwd: config.cwd, timeoutMs: config.timeoutMs, input: payload, env: { BLUEGREEN_EVENT: event.type } };
  const result = await runShell(config.command, options).catch((error: Error) => ({ exitCode: 1, all: error.message, timedOut: false }));
  if (result.timedOut || result.exitCode !== 0) {
    const why = result.timedOut ? `no answer within ${config.timeoutMs} ms` : `exit ${result.exitCode}`;
    const said = redact(String(result.all ?? ''), config.secrets)
      .trim()
      .split('\n')
      .slice(-3)
      .join(' | ');
    config.warn(`notify hook failed on a ${event.type} event (${why}): ${said}`);
  }
}

/** A store that tells the hook, in order, about every phase change, flip and failure it records. */
export function notifyingStore(store: StateStore, config: NotifyConfig): StateStore {
  // One at a time, in order: a hook must see events as they happened.
  let queue = Promise.resolve();
  const send = (events: CutoverEvent[]) => {
    for (const e of events) queue = queue.then(() => runNotify(config, e));
    return queue;
  };
  return {
    dir: store.dir,
    load: () => store.load(),
    async save(state) {
      const before = await store.load().catch(() => undefined);
      await store.save(state);
      await send(eventsOfSave(before, state));
    },
    async audit(entry) {
      await store.audit(entry);
      const e = eventOfAudit(entry);
      if (e) await send([e]);
    },
  };
}
