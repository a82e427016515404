import { describe, expect, it } from 'vitest';
import { bluegreen } from './run-cli.js';

// Every option's value passes its zod schema before a command runs: a wrong one is a usage error (exit 2)
// naming the option and the value, in the words commander uses for its own usage errors.
describe('a wrong option value: exit 2, the option named, no stack trace', () => {
  it.each([
    [['switchover', '--blockers', 'bogus'], "option '--blockers <action>' argument 'bogus' is invalid. Allowed choices are wait, cancel, terminate."],
    [['clone', '--jobs', 'abc'], "option '--jobs <n>' argument 'abc' is invalid. It must be a whole number of at least 1."],
    [['clone', '--jobs', ''], "option '--jobs <n>' argument '' is invalid. It must be a whole number of at least 1."],
    [['watch', '--interval', '10'], "option '--interval <ms>' argument '10' is invalid. It must be a whole number of at least 100."],
    [['report', '--cutover', '../../etc'], "option '--cutover <id>' argument '../../etc' is invalid."],
    [['preflight', '--config', ''], "option '-c, --config <file>' argument '' is invalid. It must be a file path."],
    [['demo', '--scale', 'lots'], "option '--scale <n>' argument 'lots' is invalid. It must be a number above 0."],
  ])('%j', async (args, message) => {
    const r = await bluegreen(args);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`error: ${message}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('--help still lists the choices of --blockers and the defaults', async () => {
    const r = await bluegreen(['switchover', '--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/\(choices: "wait",\s+"cancel", "terminate"\)/);
    expect((await bluegreen(['clone', '--help'])).stdout).toMatch(/--jobs <n>\s+parallel pg_dump \/ pg_restore jobs \(default: 2\)/);
  });
});
