/**
 * What a command's action is given: printing with every secret redacted, and `execute`, which loads
 * the config, runs the work, prints the result (human or --json) and sets the exit code.
 */
import type { Config } from '../core/config.js';
import { BlueGreenError, ExitCode, describeError } from '../core/errors.js';
import { redact } from '../core/redact.js';
import type { Report } from '../core/report.js';
import { terminalProgress } from '../adapters/progress.js';
import { createDeps, type Deps, loadConfig } from '../commands/context.js';

const SECRET_ENV = /PASS|SECRET|TOKEN|KEY|CRED/i;

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export const defaultIo: Io = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

/** The options `execute` reads; every command that loads a config has them. */
export interface ExecuteOptions {
  readonly config: string;
  readonly json?: boolean;
}

/** What a command's outcome looks like to `execute`: `ok: false` with an error sets a failing exit code. */
export type Outcome = { ok?: boolean; error?: Report['error'] };

export interface Cli {
  /** A line on stdout, secrets redacted. */
  readonly out: (text: string) => void;
  /** Text on stdout as it is (no newline added), secrets redacted: `watch` draws frames with it. */
  readonly write: (text: string) => void;
  /** Loads the config, runs the work, prints the result, sets the exit code. */
  readonly execute: <T extends Outcome>(
    options: ExecuteOptions,
    work: (deps: Deps) => Promise<T>,
    render: (result: T) => string,
  ) => Promise<void>;
  /** Prints an error (as JSON too with --json) and sets its exit code. */
  readonly fail: (error: unknown, json?: boolean) => void;
  readonly setExitCode: (code: number) => void;
}

/** Secrets in the environment, redacted even before a config names them. */
function envSecrets(): string[] {
  return Object.entries(process.env)
    .filter(([k, v]) => SECRET_ENV.test(k) && v && v.length >= 4)
    .map(([, v]) => v!);
}

function exitCodeOf(error: unknown): number {
  return error instanceof BlueGreenError ? error.exitCode : ExitCode.failed;
}

/** `setExitCode` is the only way a command's outcome becomes the process's. */
export function createCli(io: Io, setExitCode: (code: number) => void): Cli {
  let secrets: string[] = envSecrets();
  const out = (text: string) => io.stdout(`${redact(text, secrets)}\n`);
  const err = (text: string) => io.stderr(`${redact(text, secrets)}\n`);

  function fail(error: unknown, json?: boolean): void {
    const e = error instanceof BlueGreenError ? error : undefined;
    const message = describeError(error);
    if (json) out(JSON.stringify({ ok: false, error: { code: e?.code ?? 'failed', message, hint: e?.hint } }, null, 2));
    err(`✖ ${message}`);
    if (e?.hint) err(`  ${e.hint}`);
    if (!e && process.env.BLUEGREEN_DEBUG) err(String((error as Error)?.stack ?? ''));
    setExitCode(exitCodeOf(error));
  }

  function report<T extends Outcome>(options: ExecuteOptions, result: T, render: (result: T) => string): void {
    const text = options.json ? JSON.stringify(result, null, 2) : render(result);
    if (text) out(text);
    if (result.ok === false) {
      if (result.error) {
        // A blank line between what was printed and the error; a failure that prints nothing else (migrate) shows just the error.
        err(`${text ? '\n' : ''}✖ ${result.error.message}`);
        if (result.error.hint) err(`  ${result.error.hint}`);
      }
      setExitCode(result.error?.exitCode ?? ExitCode.failed);
    } else setExitCode(ExitCode.ok);
  }

  async function execute<T extends Outcome>(options: ExecuteOptions, work: (deps: Deps) => Promise<T>, render: (result: T) => string) {
    try {
      const config: Config = loadConfig(options.config);
      secrets = [...new Set([...secrets, ...config.secrets])];
      const deps = createDeps(config, terminalProgress());
      report(options, await work(deps), render);
    } catch (error) {
      fail(error, options.json);
    }
  }

  return { out, write: (text) => io.stdout(redact(text, secrets)), execute, fail, setExitCode };
}
