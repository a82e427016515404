/**
 * The errors an operator can act on. Each carries a stable `code`, the process exit code the CLI
 * should use, and a `hint` saying what to do next. Only src/cli turns these into an exit code.
 */

/** Exit codes, documented in the README: scripts depend on them. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  blocked: 3,
  /** `bluegreen guard --once` / `--exit-after-action`: the guard rolled back. */
  guardRolledBack: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface BlueGreenErrorOptions {
  readonly hint?: string;
  readonly cause?: unknown;
}

/** Base error: `code` for scripts, `exitCode` for the CLI, `hint` for the person on call. */
export class BlueGreenError extends Error {
  readonly code: string = 'failed';
  readonly exitCode: ExitCode = ExitCode.failed;
  readonly hint?: string;

  constructor(message: string, options: BlueGreenErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** One problem found in a config file, with the path of the offending field. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

export class ConfigInvalidError extends BlueGreenError {
  override readonly code = 'config_invalid';
  override readonly exitCode = ExitCode.usage;
  readonly problems: ReadonlyArray<ConfigProblem>;

  constructor(file: string, problems: ReadonlyArray<ConfigProblem>, options: BlueGreenErrorOptions = {}) {
    super(
      `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n` +
        problems.map((p) => `  - ${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n'),
      { hint: options.hint ?? 'Fix every line above, then run the command again.', cause: options.cause },
    );
    this.problems = problems;
  }
}

export class UsageError extends BlueGreenError {
  override readonly code = 'usage';
  override readonly exitCode = ExitCode.usage;
}

/** A preflight finding or a switchover guardrail said no before anything changed. */
export class BlockedError extends BlueGreenError {
  override readonly code = 'blocked';
  override readonly exitCode = ExitCode.blocked;
}

export class LockHeldError extends BlueGreenError {
  override readonly code = 'lock_held';
  override readonly exitCode = ExitCode.blocked;
}

export class TransitionNotAllowedError extends BlueGreenError {
  override readonly code = 'transition_not_allowed';
  override readonly exitCode = ExitCode.usage;
}

/** A SQL statement failed: keeps PostgreSQL's own fields so the operator sees them. */
export class SqlError extends BlueGreenError {
  override readonly code = 'sql_failed';
  readonly sqlState?: string;
  readonly detail?: string;
  readonly position?: number;
}

export class MigrationError extends BlueGreenError {
  override readonly code = 'migration_failed';
}

export class ToolFailedError extends BlueGreenError {
  override readonly code = 'tool_failed';
}

export class TimeoutError extends BlueGreenError {
  override readonly code = 'timeout';
}

export class DataLossRefusedError extends BlueGreenError {
  override readonly code = 'data_loss_refused';
  override readonly exitCode = ExitCode.blocked;
}

/** Turns anything thrown into a one-line message: never a stack trace for the operator. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
