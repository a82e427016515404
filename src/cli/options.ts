/**
 * Command options as data: each option's flags, help text, default and the zod schema its value must
 * pass. The registration hands commander the flags and the help; `parseOptions` is the public layer
 * that turns commander's raw strings into typed options, or into a usage error naming the option.
 */
import { z } from 'zod';
import { UsageError } from '../core/errors.js';

export const DEFAULT_CONFIG = './bluegreen.config.json';

/** One option of one command. `default` is what commander shows in the help and gives when absent. */
export interface OptionSpec<S extends z.ZodType = z.ZodType> {
  readonly flags: string;
  readonly description: string;
  readonly schema: S;
  readonly default?: z.input<S>;
  /** Listed in the help as "(choices: …)"; the schema is what enforces them. */
  readonly choices?: ReadonlyArray<string>;
}

/** A command's options, keyed by the name commander gives each (`--dry-run` → `dryRun`). */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** What a command's action receives: every option's value as its schema makes it. */
export type ParsedOptions<O extends OptionSpecs> = { readonly [K in keyof O]: z.output<O[K]['schema']> };

/** A wrong option value: exit 2, reported the way commander reports its own usage errors. */
export class InvalidOptionError extends UsageError {
  /** Each problem on its own, e.g. "option '--jobs <n>' argument 'abc' is invalid. It must be …". */
  readonly problems: ReadonlyArray<string>;

  constructor(problems: ReadonlyArray<string>) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

/** Checks every option at once; a value that fails its schema is named with its flags and the value given. */
export function parseOptions<O extends OptionSpecs>(specs: O, raw: Readonly<Record<string, unknown>>): ParsedOptions<O> {
  const shape = Object.fromEntries(Object.entries(specs).map(([key, spec]) => [key, spec.schema]));
  const result = z.object(shape).safeParse(raw);
  if (result.success) return result.data as ParsedOptions<O>;
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const issue of result.error.issues) {
    const key = String(issue.path[0]);
    if (seen.has(key)) continue; // one line per option: the first thing wrong with it
    seen.add(key);
    problems.push(`option '${specs[key]?.flags ?? key}' argument '${String(raw[key])}' is invalid. ${issue.message}`);
  }
  throw new InvalidOptionError(problems);
}

// The kinds of value an option takes. Each message completes "option '…' argument '…' is invalid."

/** A switch: commander gives `true` when present, nothing when absent. */
export const flagSchema = z.boolean().optional();

/** A whole number of at least `min` (`--jobs abc` or `--jobs ''` is refused, never NaN). */
export function wholeNumber(min: number) {
  const error = `It must be a whole number of at least ${min}.`;
  return z.preprocess(blankIsNaN, z.coerce.number({ error }).int({ error }).min(min, { error }));
}

/** A finite number above 0. */
export function positiveNumber() {
  const error = 'It must be a number above 0.';
  return z.preprocess(blankIsNaN, z.coerce.number({ error }).positive({ error }));
}

/** One of a few words; the message lists them as commander's own `.choices()` does. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `Allowed choices are ${values.join(', ')}.` });
}

/** A file or folder path: not empty, no NUL byte (no file system accepts one). */
export function pathSchema(what: 'file' | 'folder') {
  return z.string().refine((v) => v.trim() !== '' && !v.includes('\0'), { error: `It must be a ${what} path.` });
}

/** A cutover's id as the audit log shows it (`20250101T120000-ab12`): a name inside the state folder, never a path. */
export const cutoverIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: 'It must be a cutover id as the audit log shows it (such as 20250101T120000-ab12).' });

function blankIsNaN(value: unknown): unknown {
  return typeof value === 'string' && value.trim() === '' ? Number.NaN : value;
}

// Options most commands share.

/** A switch with its help text. */
export function flag(flags: string, description: string): OptionSpec<typeof flagSchema> {
  return { flags, description, schema: flagSchema };
}

export function configOption(description = 'config file'): OptionSpec<ReturnType<typeof pathSchema>> {
  return { flags: '-c, --config <file>', description, schema: pathSchema('file'), default: DEFAULT_CONFIG };
}

export function jsonOption(description = 'print one JSON object on stdout (progress stays on stderr)'): OptionSpec<typeof flagSchema> {
  return flag('--json', description);
}

export function dryRunOption(): OptionSpec<typeof flagSchema> {
  return flag('--dry-run', 'print the plan and change nothing');
}

/** `--blockers`: sessions on the side traffic leaves that would hold the pause. */
export function blockersOption() {
  const choices = ['wait', 'cancel', 'terminate'] as const;
  return {
    flags: '--blockers <action>',
    description:
      'sessions that would hold the pause (a transaction open, a long query): wait for them then refuse, cancel their queries, ' +
      'or end their sessions (default: switchover.blockers.action, "wait")',
    schema: oneOf(choices).optional(),
    choices,
  } satisfies OptionSpec;
}
