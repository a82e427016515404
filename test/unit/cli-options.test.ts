import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { InvalidOptionError, parseOptions, wholeNumber, oneOf, pathSchema, cutoverIdSchema } from '../../src/cli/options.js';
import { ExitCode, UsageError } from '../../src/core/errors.js';

/** Runs the program with argv, capturing what a user would see; no config is ever read for a wrong value. */
async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  let code: number | undefined;
  const program = buildProgram({ stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) }, (c) => void (code = c));
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    // exitOverride: commander throws where it would exit; main() turns that into the exit code.
    code = (error as { exitCode?: number }).exitCode;
  }
  return { stdout, stderr, code };
}

describe('parseOptions: the public layer between argv strings and typed options', () => {
  const specs = {
    jobs: { flags: '--jobs <n>', description: '', schema: wholeNumber(1), default: 2 },
    blockers: { flags: '--blockers <action>', description: '', schema: oneOf(['wait', 'cancel', 'terminate']).optional() },
    out: { flags: '--out <file>', description: '', schema: pathSchema('file') },
    cutover: { flags: '--cutover <id>', description: '', schema: cutoverIdSchema.optional() },
  };

  it('turns valid strings into typed values', () => {
    expect(parseOptions(specs, { jobs: '4', blockers: 'cancel', out: 'x.html', cutover: '20250101T120000-ab12' })).toEqual({
      jobs: 4,
      blockers: 'cancel',
      out: 'x.html',
      cutover: '20250101T120000-ab12',
    });
    expect(parseOptions(specs, { jobs: 2, out: 'x' })).toEqual({ jobs: 2, out: 'x' });
  });

  it('names every wrong option, with the value given, as a usage error (exit 2)', () => {
    let error: unknown;
    try {
      parseOptions(specs, { jobs: 'abc', blockers: 'bogus', out: '', cutover: '../../etc/passwd' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.usage);
    expect((error as InvalidOptionError).problems).toEqual([
      "option '--jobs <n>' argument 'abc' is invalid. It must be a whole number of at least 1.",
      "option '--blockers <action>' argument 'bogus' is invalid. Allowed choices are wait, cancel, terminate.",
      "option '--out <file>' argument '' is invalid. It must be a file path.",
      "option '--cutover <id>' argument '../../etc/passwd' is invalid. It must be a cutover id as the audit log shows it (such as 20250101T120000-ab12).",
    ]);
  });

  it.each([['abc'], [''], [' '], ['0'], ['1.5'], ['Infinity']])('a whole number refuses %j', (value) => {
    expect(() => parseOptions(specs, { jobs: value, out: 'x' })).toThrow(InvalidOptionError);
  });
});

describe('the command table', () => {
  it('registers every command with options keyed as commander names them', () => {
    const names = buildProgram().commands.map((c) => c.name());
    expect(names).toEqual([
      'preflight',
      'clone',
      'migrate',
      'migrations',
      'compare',
      'switchover',
      'rollback',
      'sync-schema',
      'reseed',
      'finalize',
      'abort',
      'resume',
      'status',
      'report',
      'watch',
      'guard',
      'run',
      'demo',
    ]);
  });

  it.each([
    [['clone', '--jobs', 'abc'], "option '--jobs <n>' argument 'abc' is invalid. It must be a whole number of at least 1."],
    [
      ['switchover', '--blockers', 'bogus'],
      "option '--blockers <action>' argument 'bogus' is invalid. Allowed choices are wait, cancel, terminate.",
    ],
    [
      ['rollback', '--json', '--blockers', 'kill'],
      "option '--blockers <action>' argument 'kill' is invalid. Allowed choices are wait, cancel, terminate.",
    ],
    [['watch', '--interval', '50'], "option '--interval <ms>' argument '50' is invalid. It must be a whole number of at least 100."],
    [['watch', '--count', '-1'], "option '--count <n>' argument '-1' is invalid. It must be a whole number of at least 1."],
    [['report', '--cutover', '../x'], "option '--cutover <id>' argument '../x' is invalid. It must be a cutover id"],
    [['report', '--out', ''], "option '--out <file>' argument '' is invalid. It must be a file path."],
    [['status', '--config', ''], "option '-c, --config <file>' argument '' is invalid. It must be a file path."],
    [['migrations', 'create', 'x', '--dir', ' '], "option '--dir <dir>' argument ' ' is invalid. It must be a folder path."],
    [['demo', '--scale', '0'], "option '--scale <n>' argument '0' is invalid. It must be a number above 0."],
    [['demo', '--green-major', '9'], "option '--green-major <n>' argument '9' is invalid. It must be a whole number of at least 15."],
  ])('%j is a usage error naming the option, before any config is read (none here)', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toContain(`error: ${message}`);
    expect(r.stderr).toContain('(run with --help for usage)');
    expect(r.stderr).not.toContain('file not found');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('two wrong options are both named', async () => {
    const r = await run(['clone', '--jobs', '0', '--config', '']);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toContain("error: option '-c, --config <file>' argument '' is invalid.");
    expect(r.stderr).toContain("error: option '--jobs <n>' argument '0' is invalid.");
  });
});
