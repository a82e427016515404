/** `bluegreen demo`: the sandbox's cutover, explained; `--managed` as on a managed service. */
import { ExitCode, UsageError } from '../../core/errors.js';
import { DEMO_MIGRATIONS, runDemo, stopDemo } from '../../sandbox/demo.js';
import { runManagedDemo } from '../../sandbox/demo-managed.js';
import { flag, pathSchema, positiveNumber, wholeNumber } from '../options.js';
import { defineCommand } from '../register.js';
import { z } from 'zod';

export const demoCommand = defineCommand({
  name: 'demo',
  description: 'a full cutover on a local sandbox (blue, green, PgBouncer), explained as it goes',
  options: {
    keep: flag('--keep', 'leave the sandbox running and print a config to try every command by hand'),
    scale: { flags: '--scale <n>', description: 'data size: 1 is about 100k rows', schema: positiveNumber(), default: 1 },
    stop: { flags: '--stop <dir>', description: 'stop a sandbox left running by --keep', schema: pathSchema('folder').optional() },
    // Any word passes here: which mode, and with which other options, is the demo's own check below.
    mode: { flags: '--mode <mode>', description: 'replicate (zero downtime) or freeze', schema: z.string(), default: 'replicate' },
    greenMajor: {
      flags: '--green-major <n>',
      description: 'green on another PostgreSQL major (16, 17, 18: a major upgrade; servers from scripts/setup.sh)',
      schema: wholeNumber(15).optional(),
    },
    managed: flag('--managed', 'as on a managed service: the tool connects as an admin without SUPERUSER (green 17 unless --green-major)'),
  },
  action: async (cli, o) => {
    try {
      if (o.stop) {
        await stopDemo(o.stop);
        cli.out(`Stopped and removed the sandbox in ${o.stop}.`);
      } else {
        const mode = demoMode(o.mode, o.managed);
        const common = { keep: o.keep, scale: o.scale, greenMajor: o.greenMajor, print: cli.out };
        if (o.managed) await runManagedDemo({ ...common, migrations: DEMO_MIGRATIONS });
        else await runDemo({ ...common, mode });
      }
      cli.setExitCode(ExitCode.ok);
    } catch (error) {
      cli.fail(error);
    }
  },
});

/** `--mode` with the demo's own wording; `--managed` shows replicate mode only. */
function demoMode(mode: string, managed?: boolean): 'replicate' | 'freeze' {
  if (mode !== 'replicate' && mode !== 'freeze') throw new UsageError(`--mode must be replicate or freeze (got "${mode}")`);
  if (managed && mode !== 'replicate') throw new UsageError('--managed shows a replicate-mode cutover; leave out --mode');
  return mode;
}
