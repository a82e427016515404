import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { ConfigInvalidError } from '../../src/core/errors.js';

const valid = {
  blue: 'postgres://app:${APP_PASSWORD}@127.0.0.1:5432/app',
  green: 'postgres://app:${APP_PASSWORD}@127.0.0.1:5433/app',
  mode: 'freeze',
  migrations: { dir: 'migrations' },
  pointer: { type: 'pgbouncer', admin: 'postgres://pgbadmin:${PGB_PASSWORD}@127.0.0.1:6432/pgbouncer', ini: '/etc/pgbouncer/pgbouncer.ini', database: 'app' },
  rollbackWindow: '24h',
  switchover: { timeoutMs: 30000 },
};
const env = { APP_PASSWORD: 's3cret-app', PGB_PASSWORD: 's3cret-pgb' };

function problemsOf(text: string, e: Record<string, string> = env): string[] {
  try {
    parseConfig(text, '/srv/bluegreen.config.json', e);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigInvalidError);
    return (error as ConfigInvalidError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected the config to be refused');
}

describe('parseConfig', () => {
  it('accepts the README example, resolving ${VAR} and relative paths, and lists the secrets', () => {
    const config = parseConfig(JSON.stringify(valid), '/srv/bluegreen.config.json', env);
    expect(config.blue).toBe('postgres://app:s3cret-app@127.0.0.1:5432/app');
    expect(config.migrations).toEqual({ dir: '/srv/migrations' });
    expect(config.stateDir).toBe('/srv/.bluegreen');
    expect(config.dumpDir).toBe('/srv/.bluegreen/dumps');
    expect(config.rollbackWindowMs).toBe(86_400_000);
    expect(config.switchover).toEqual({ timeoutMs: 30000, pauseTimeoutMs: 2000, maxLagBytes: 16 * 1024 * 1024, verify: false, blockers: { action: 'wait', waitMs: 10000, minAgeMs: 500 }, unloggedCopyMaxRows: 10_000 });
    expect(config.secrets).toEqual(expect.arrayContaining(['s3cret-app', 's3cret-pgb']));
  });

  it('defaults mode to replicate, the window to 24h and the file pointer works', () => {
    const { mode: _m, rollbackWindow: _r, ...rest } = valid;
    const config = parseConfig(JSON.stringify({ ...rest, pointer: { type: 'file', path: 'db.env', variable: 'DATABASE_URL', notify: 'systemctl reload app' } }), '/srv/c.json', env);
    expect(config.mode).toBe('replicate');
    expect(config.rollbackWindowMs).toBe(86_400_000);
    expect(config.pointer).toEqual({ type: 'file', path: '/srv/db.env', variable: 'DATABASE_URL', notify: 'systemctl reload app' });
  });

  it('reports malformed JSON with the parser message', () => {
    expect(problemsOf('{ "blue": ')[0]).toMatch(/^: is not valid JSON/);
  });

  it('reports every problem at once, each with its path', () => {
    const problems = problemsOf(
      JSON.stringify({ ...valid, blue: 'mysql://x', mode: 'fast', rollbackWindow: '-1h', extra: 1, switchover: { timeoutMs: -5 }, pointer: { ...valid.pointer, ini: undefined } }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'blue: must start with postgres:// (got mysql://)',
        expect.stringMatching(/^mode: /),
        'rollbackWindow: "-1h" is not a positive duration (use e.g. 90s, 30m, 24h, 2d)',
        'extra: unknown key (check its spelling)',
        expect.stringMatching(/^switchover\.timeoutMs: /),
        'pointer.ini: is required',
      ]),
    );
    expect(problems.length).toBeGreaterThanOrEqual(6);
  });

  it('names a missing environment variable and a bad reference', () => {
    const problems = problemsOf(JSON.stringify({ ...valid, green: 'postgres://app:${NOPE}@h:1/app', stateDir: '${1BAD}' }), { APP_PASSWORD: 'x', PGB_PASSWORD: 'y' });
    expect(problems).toContain('green: environment variable NOPE is not set');
    expect(problems).toContain('stateDir: "${1BAD}" is not a valid environment variable reference');
  });

  it('refuses blue and green pointing at the same database', () => {
    expect(problemsOf(JSON.stringify({ ...valid, green: 'postgres://other:pw@localhost:5432/app' }))).toEqual([
      'green: points at the same database as blue (localhost:5432/app)',
    ]);
  });

  it('requires the pgbouncer admin console database and missing fields by name', () => {
    expect(problemsOf(JSON.stringify({ ...valid, pointer: { ...valid.pointer, admin: 'postgres://a:b@h:6432/app' } }))).toEqual([
      'pointer.admin: must connect to the "pgbouncer" admin database (…/pgbouncer)',
    ]);
    const { blue: _b, pointer: _p, ...missing } = valid;
    expect(problemsOf(JSON.stringify(missing))).toEqual(expect.arrayContaining(['blue: is required', expect.stringMatching(/^pointer: /)]));
  });

  it('refuses a config that is not an object', () => {
    expect(problemsOf('[1,2]')).toEqual([': must be a JSON object']);
  });
});
