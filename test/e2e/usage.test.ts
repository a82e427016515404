import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bluegreen } from './run-cli.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bluegreen-usage-'));
function configFile(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('usage and config errors (exit 2, every problem listed, no stack trace)', () => {
  it('--help teaches the commands and the exit codes', async () => {
    const r = await bluegreen(['--help']);
    expect(r.exitCode).toBe(0);
    for (const c of ['preflight', 'clone', 'migrate', 'migrations', 'compare', 'switchover', 'rollback', 'finalize', 'status', 'run', 'demo', 'abort']) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
    }
    expect(r.stdout).toContain('Exit codes: 0 ok, 1 failed, 2 usage or config error, 3 blocked');
  });

  it('output into a pipe closed early ends quietly (no EPIPE stack trace), exit 0', async () => {
    const { execa } = await import('execa');
    const cli = path.resolve('dist/cli/main.js');
    const r = await execa('bash', ['-o', 'pipefail', '-c', `node ${JSON.stringify(cli)} --help | head -1`], { reject: false });
    expect(r.stdout).toBe('Usage: bluegreen [options] [command]');
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('a wrong option value is a usage error naming the option, never NaN', async () => {
    const r = await bluegreen(['clone', '--jobs', 'abc']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("option '--jobs <n>' argument 'abc' is invalid. It must be a whole number of at least 1.");
    expect((await bluegreen(['watch', '--count', '0'])).exitCode).toBe(2);
  });

  it('an unknown command or option is a usage error', async () => {
    expect((await bluegreen(['swtichover'])).exitCode).toBe(2);
    const r = await bluegreen(['status', '--jsn']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("unknown option '--jsn'");
  });

  it('a missing config file says where it looked', async () => {
    const r = await bluegreen(['status', '--config', path.join(dir, 'nope.json')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${path.join(dir, 'nope.json')}: 1 problem\n  - file not found`);
  });

  it('malformed JSON', async () => {
    const r = await bluegreen(['preflight', '--config', configFile('bad.json', '{ "blue": "postgres://a@h/db",, }')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/is not valid JSON/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports every problem at once, each with its path', async () => {
    const file = configFile(
      'many.json',
      JSON.stringify({ blue: 'postgres://u:${NOT_SET_ANYWHERE}@h:1/app', green: 'postgres://u@h:1/app', mode: 'fast', pointer: { type: 'pgbouncer', ini: 'x.ini', database: 'app' }, rollbackWindow: '-1h', colour: 'blue' }),
    );
    const r = await bluegreen(['switchover', '--config', file, '--json']);
    expect(r.exitCode).toBe(2);
    for (const line of [
      'blue: environment variable NOT_SET_ANYWHERE is not set',
      'pointer.admin: is required',
      'rollbackWindow: "-1h" is not a positive duration',
      'colour: unknown key (check its spelling)',
    ]) {
      expect(r.stderr).toContain(line);
    }
    expect(r.stderr).toMatch(/mode: /);
    // --json keeps stdout machine-readable even for errors.
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'config_invalid' } });
  });

  it('refuses blue and green being the same database', async () => {
    const file = configFile('same.json', JSON.stringify({ blue: 'postgres://u@localhost:5432/app', green: 'postgres://v@127.0.0.1:5432/app', pointer: { type: 'file', path: 'db.env', variable: 'DATABASE_URL' } }));
    const r = await bluegreen(['preflight', '--config', file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('green: points at the same database as blue (127.0.0.1:5432/app)');
  });

  it('an unreachable blue is a preflight block (exit 3) with the host named, never a stack trace', async () => {
    const file = configFile('unreachable.json', JSON.stringify({ blue: 'postgres://u:pw@127.0.0.1:1/app', green: 'postgres://u:pw@127.0.0.1:2/app', pointer: { type: 'file', path: 'db.env', variable: 'DATABASE_URL' } }));
    const r = await bluegreen(['preflight', '--config', file]);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toContain('✖ block blue: cannot connect to blue (u@127.0.0.1:1/app): connection refused');
    expect(r.stdout).toContain('pointer.path: cannot read');
    expect(r.stdout + r.stderr).not.toContain('pw@');
  });

  it('migrations create writes an up and a down file', async () => {
    const r = await bluegreen(['migrations', 'create', 'Add price alerts!', '--dir', path.join(dir, 'm')]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/\d{14}_add_price_alerts\.up\.sql/);
    expect(r.stdout).toMatch(/\d{14}_add_price_alerts\.down\.sql/);
  });
});
