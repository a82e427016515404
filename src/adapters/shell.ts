/**
 * Commands the operator configures (guard checks, the notify hook, a command pointer), run through
 * the shell with a time limit that holds: the command gets a process group of its own, and the whole
 * group is killed when time runs out. Killing only the shell left its children (a `sleep`, a curl)
 * holding the output pipe open, and the wait went on for as long as they did.
 */
import { execa } from 'execa';

export interface ShellResult {
  readonly exitCode?: number;
  readonly signal?: string;
  readonly timedOut: boolean;
  /** stdout and stderr interleaved. */
  readonly all: string;
  readonly stdout: string;
}

export interface ShellOptions {
  readonly cwd: string;
  readonly timeoutMs: number;
  readonly input?: string;
  readonly env?: Record<string, string>;
}

export async function runShell(command: string, options: ShellOptions): Promise<ShellResult> {
  const child = execa(command, {
    shell: true,
    reject: false,
    all: true,
    cwd: options.cwd,
    detached: true,
    env: options.env,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, options.timeoutMs);
  try {
    const r = await child;
    return { exitCode: r.exitCode, signal: r.signal, timedOut, all: String(r.all ?? ''), stdout: String(r.stdout ?? '') };
  } finally {
    clearTimeout(timer);
  }
}
