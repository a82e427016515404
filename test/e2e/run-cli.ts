/** Runs the built CLI the way an operator does, capturing what they see. */
import path from 'node:path';
import { execa } from 'execa';

export const CLI = path.resolve('dist/cli/main.js');

export interface CliRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function bluegreen(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliRun> {
  const result = await execa('node', [CLI, ...args], { reject: false, env: { CI: '1', ...options.env }, cwd: options.cwd, stdin: 'ignore' });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}
