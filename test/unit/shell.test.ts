import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runShell } from '../../src/adapters/shell.js';

describe('a configured command with a time limit', () => {
  it('ends at its limit even when a child of the shell holds the output open', async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'bluegreen-shell-'));
    const start = performance.now();
    // `sleep` outlives its shell and keeps the pipe: killing the shell alone waited the 30 s out.
    const r = await runShell('echo started; sleep 30; echo never', { cwd, timeoutMs: 500 });
    const ms = performance.now() - start;
    expect(r.timedOut).toBe(true);
    expect(r.all).toContain('started');
    expect(r.all).not.toContain('never');
    expect(ms).toBeLessThan(5000);
  });

  it('passes input, environment and the exit code through', async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'bluegreen-shell-'));
    const r = await runShell('read line; echo "$line $WHO"; exit 3', { cwd, timeoutMs: 5000, input: 'hello\n', env: { WHO: 'guard' } });
    expect(r).toMatchObject({ exitCode: 3, timedOut: false, stdout: 'hello guard' });
  });
});
