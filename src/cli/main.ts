#!/usr/bin/env node
// The `bluegreen` executable: hands argv to the program, which sets the exit code.
import { main } from './program.js';

// Output into a pipe closed early (`bluegreen --help | head`) ends quietly: the reader has what it wanted.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`✖ unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
  if (process.env.BLUEGREEN_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
});
