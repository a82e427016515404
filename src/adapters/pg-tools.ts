/**
 * pg_dump, pg_restore and pg_dumpall through execa. The connection (password included) goes in a
 * private service file named by PGSERVICEFILE, never in argv or the environment (where `ps` would
 * show it); a failure becomes our error with the tool's stderr, minus secrets.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { parseConnString, serviceFileSection } from '../core/conninfo.js';
import { ToolFailedError } from '../core/errors.js';
import { redact } from '../core/redact.js';
import { findTool } from './pg-binaries.js';
import { OWN_SESSION_OPTIONS } from './pg.js';

export interface ToolRun {
  readonly tool: 'pg_dump' | 'pg_restore' | 'pg_dumpall';
  readonly args: ReadonlyArray<string>;
  /** The connection the tool uses (given as libpq environment variables). */
  readonly url: string;
  /** Major version of the server the tool talks to: picks a client new enough. */
  readonly serverMajor: number;
  readonly binDir?: string;
  readonly secrets: ReadonlyArray<string>;
  /** Each stderr line as it comes (pg_dump -v progress), already redacted. */
  readonly onStderrLine?: (line: string) => void;
  /** Extra server settings for the tool's sessions (PGOPTIONS), e.g. for a restore. */
  readonly sessionOptions?: string;
}

/**
 * Runs a PostgreSQL client tool; returns its stdout. The connection goes in a service file of its own
 * (mode 0600, in a private folder, removed after): every libpq parameter, sslpassword and password
 * included, reaches the tool without argv (which `ps` shows) or an environment variable libpq lacks.
 */
export async function runPgTool(run: ToolRun): Promise<string> {
  const file = findTool(run.tool, run.serverMajor, run.binDir);
  const info = parseConnString(run.url);
  // The service file's options win over PGOPTIONS: ours and the connection string's go in together.
  const options = [info.params.options, OWN_SESSION_OPTIONS, run.sessionOptions].filter(Boolean).join(' ');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bluegreen-conn-'));
  const serviceFile = path.join(dir, 'pg_service.conf');
  writeFileSync(
    serviceFile,
    serviceFileSection('bluegreen', { ...info, params: { connect_timeout: '10', application_name: 'bluegreen', ...info.params, options } }),
    { mode: 0o600 },
  );
  const child = execa(file, [...run.args], {
    env: {
      PGSERVICEFILE: serviceFile,
      PGSERVICE: 'bluegreen',
      PGPASSWORD: undefined,
      PGHOST: undefined,
      PGPORT: undefined,
      PGUSER: undefined,
      PGDATABASE: undefined,
      PGOPTIONS: undefined,
    },
    extendEnv: true,
    reject: false,
    stdin: 'ignore',
    maxBuffer: 512 * 1024 * 1024,
  });
  child.finally(() => rmSync(dir, { recursive: true, force: true })).catch(() => undefined);
  let stderrTail = '';
  let partial = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const raw of lines) {
      const line = redact(raw, run.secrets);
      stderrTail = `${stderrTail}${line}\n`.slice(-4000);
      run.onStderrLine?.(line);
    }
  });
  const result = await child;
  if (partial) stderrTail = `${stderrTail}${redact(partial, run.secrets)}`.slice(-4000);
  if (result.exitCode !== 0 || result.failed) {
    const errors = stderrTail
      .split('\n')
      .filter((l) => /error|fatal|could not|failed|refus/i.test(l))
      .slice(-8)
      .join('\n  ');
    throw new ToolFailedError(
      `${run.tool} failed (exit ${result.exitCode ?? 'signal ' + result.signal}):\n  ` +
        `${errors || stderrTail.trim().split('\n').slice(-8).join('\n  ')}`,
      {
        hint:
          run.tool === 'pg_restore'
            ? 'Green may hold a partial restore; `bluegreen abort` and clone again once the cause is fixed.'
            : undefined,
      },
    );
  }
  return String(result.stdout ?? '');
}
