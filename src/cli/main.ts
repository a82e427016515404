#!/usr/bin/env node
// The `bluegreen` executable: hands argv to the program, which sets the exit code.
import { main } from './program.js';

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`✖ unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
  if (process.env.BLUEGREEN_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
});
