/**
 * The table of commands and the one loop that hands it to commander. A command is data: its name,
 * help, options (each with its zod schema) and an action that receives options already checked.
 */
import { type Command, Option } from 'commander';
import type { Cli } from './context.js';
import { InvalidOptionError, type OptionSpecs, type ParsedOptions, parseOptions } from './options.js';

export interface CommandSpec<O extends OptionSpecs> {
  readonly name: string;
  /** Positional arguments as commander writes them, e.g. `<name>`. */
  readonly args?: string;
  readonly description: string;
  /** Shown after the options in `--help`. */
  readonly helpAfter?: string;
  readonly options: O;
  /** Runs with options that passed their schemas; positional arguments in order. */
  readonly action?: (cli: Cli, options: ParsedOptions<O>, args: ReadonlyArray<string>) => Promise<void> | void;
  /** A group such as `migrations`: its own commands under it. */
  readonly subcommands?: ReadonlyArray<CommandEntry>;
}

/** A command of the table with its option types erased, so commands of every shape sit in one list. */
export interface CommandEntry {
  readonly name: string;
  readonly args?: string;
  readonly description: string;
  readonly helpAfter?: string;
  readonly options: OptionSpecs;
  readonly subcommands?: ReadonlyArray<CommandEntry>;
  /** Validates the raw options with zod (throws InvalidOptionError), then runs the action. */
  readonly run?: (cli: Cli, raw: Readonly<Record<string, unknown>>, args: ReadonlyArray<string>) => Promise<void> | void;
}

export function defineCommand<O extends OptionSpecs>(spec: CommandSpec<O>): CommandEntry {
  const { action, ...rest } = spec;
  return { ...rest, run: action && ((cli, raw, args) => action(cli, parseOptions(spec.options, raw), args)) };
}

/** Adds each command, its options and its help to `parent`, in table order (the order `--help` lists them). */
export function registerCommands(parent: Command, entries: ReadonlyArray<CommandEntry>, cli: Cli): void {
  for (const entry of entries) {
    const command = parent.command(entry.args ? `${entry.name} ${entry.args}` : entry.name).description(entry.description);
    for (const [key, spec] of Object.entries(entry.options)) {
      const option = new Option(spec.flags, spec.description);
      // The table's key is the name the action reads: a typo there would silently read nothing.
      if (option.attributeName() !== key) throw new Error(`${entry.name}: option ${spec.flags} is keyed "${key}"`);
      if (spec.default !== undefined) option.default(spec.default);
      if (spec.choices) option.argChoices = [...spec.choices];
      command.addOption(option);
    }
    if (entry.helpAfter) command.addHelpText('after', entry.helpAfter);
    if (entry.subcommands) registerCommands(command, entry.subcommands, cli);
    const run = entry.run;
    if (run) command.action((...params: unknown[]) => runChecked(command, params.slice(0, -2) as string[], run, cli));
  }
}

/** A wrong option value reads like commander's own usage errors: `error: option '…' argument '…' is invalid. …`, exit 2. */
async function runChecked(command: Command, args: ReadonlyArray<string>, run: NonNullable<CommandEntry['run']>, cli: Cli): Promise<void> {
  try {
    await run(cli, command.opts(), args);
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    command.error(error.problems.map((p) => `error: ${p}`).join('\n'), { exitCode: error.exitCode, code: 'commander.invalidArgument' });
  }
}
