/**
 * The commander program. The one place that knows about argv, prints results (human or --json),
 * redacts secrets from everything it prints, and sets the exit code: 0 ok, 1 failed, 2 usage or
 * config error, 3 blocked by a preflight finding or guardrail. The commands themselves are a table
 * (src/cli/commands/), registered by one loop (src/cli/register.ts).
 */
import { Command, CommanderError } from 'commander';
import { ExitCode } from '../core/errors.js';
import { COMMANDS } from './commands/index.js';
import { createCli, defaultIo, type Io } from './context.js';
import { DEFAULT_CONFIG } from './options.js';
import { registerCommands } from './register.js';

export type { Io } from './context.js';

const setProcessExitCode = (code: number) => void (process.exitCode = code);

const OVERVIEW = `
A cutover, step by step:
  bluegreen preflight          check blue, green and the pointer; changes nothing
  bluegreen clone              copy blue to green (freeze mode: blue refuses writes from here)
  bluegreen migrate            apply migrations/ to green only
  bluegreen compare            every row's content, schema and integrity, blue vs green
  bluegreen switchover         pause, sync sequences, point traffic at green, resume
  bluegreen status             what serves, replication, DDL since the last flip, whether a flip is lossless
  bluegreen sync-schema        carry DDL made on the serving side to the other (every flip does it first)
  bluegreen rollback           back to blue within the rollback window
  bluegreen guard              roll back on its own when the application's checks keep failing
  bluegreen finalize           close the window; blue is retired
  bluegreen watch / report     a live view of the window; an HTML page of the whole cutover
Or all of preflight → switchover at once: bluegreen run.
Try it on a local sandbox first: bluegreen demo.

Exit codes: 0 ok, 1 failed, 2 usage or config error, 3 blocked by a preflight finding or guardrail.
Every command reads --config (default ${DEFAULT_CONFIG}); strings in it may use \${ENV_VAR}.`;

/** Builds the program; `setExitCode` is the only way a command's outcome becomes the process's. */
export function buildProgram(io: Io = defaultIo, setExitCode: (code: number) => void = setProcessExitCode): Command {
  const program = new Command('bluegreen')
    .description('Blue-green cutovers for PostgreSQL: clone blue to green, migrate green, compare, switch over, roll back.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .exitOverride()
    .addHelpText('after', OVERVIEW);
  // Commands copy the settings above when they are created, so they are registered last.
  registerCommands(program, COMMANDS, createCli(io, setExitCode));
  return program;
}

/** Parses argv and runs; commander's own usage errors, and a wrong option value, become exit 2. */
export async function main(argv: string[], io: Io = defaultIo, setExitCode: (code: number) => void = setProcessExitCode): Promise<void> {
  const program = buildProgram(io, setExitCode);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      const shown = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help';
      setExitCode(shown ? ExitCode.ok : ExitCode.usage);
      return;
    }
    throw error;
  }
}
