/**
 * What a long step shows while it runs: a spinner on a terminal, plain timestamped lines otherwise
 * (CI logs, `| tee`), and nothing on stdout when `--json` keeps stdout for the result.
 */
import ora, { type Ora } from 'ora';

export interface Progress {
  /** A step begins. */
  start(text: string): void;
  /** The running step's text changes (e.g. a percentage). */
  update(text: string): void;
  /** The running step ends. */
  succeed(text: string): void;
  fail(text: string): void;
  /** A line that is not a step: a finding, a note. */
  info(text: string): void;
}

/** Progress on stderr: spinners when it is a terminal, lines otherwise. */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || process.env.CI) return lineProgress((line) => stream.write(`${line}\n`));
  let spinner: Ora | undefined;
  return {
    start: (text) => {
      spinner = ora({ text, stream }).start();
    },
    update: (text) => {
      if (spinner) spinner.text = text;
    },
    succeed: (text) => {
      if (spinner) spinner.succeed(text);
      else stream.write(`✔ ${text}\n`);
      spinner = undefined;
    },
    fail: (text) => {
      if (spinner) spinner.fail(text);
      else stream.write(`✖ ${text}\n`);
      spinner = undefined;
    },
    info: (text) => {
      if (spinner) spinner.stopAndPersist({ symbol: ' ', text });
      else stream.write(`  ${text}\n`);
    },
  };
}

/** Plain lines, one per event; updates are rate-limited so a log is not flooded. */
export function lineProgress(write: (line: string) => void): Progress {
  let lastUpdate = 0;
  return {
    start: (text) => write(`… ${text}`),
    update: (text) => {
      const now = Date.now();
      if (now - lastUpdate < 2000) return;
      lastUpdate = now;
      write(`  ${text}`);
    },
    succeed: (text) => write(`✔ ${text}`),
    fail: (text) => write(`✖ ${text}`),
    info: (text) => write(`  ${text}`),
  };
}

export const silentProgress: Progress = { start() {}, update() {}, succeed() {}, fail() {}, info() {} };
