/** The README and docker-compose.yml are checked against the code, so they cannot rot. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { ExitCode } from '../../src/core/errors.js';
import { readTarget } from '../../src/core/pgbouncer-ini.js';
import { parseConnString } from '../../src/core/conninfo.js';
import { bluegreen } from './run-cli.js';

const readme = readFileSync('README.md', 'utf8');
const env = { APP_PASSWORD: 'example-app-pw', PGB_PASSWORD: 'example-pgb-pw' };

describe('README', () => {
  it('its config example is valid', () => {
    const json = /## Config[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)![1];
    const config = parseConfig(json, '/srv/bluegreen.config.json', env);
    expect(config.mode).toBe('freeze');
  });

  it('quick start is exactly the two commands, and .ci/run runs the test one', () => {
    const block = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1].trim().split('\n').map((l) => l.replace(/\s+#.*$/, ''));
    expect(block).toEqual(['bash scripts/setup.sh && npm run demo', 'bash scripts/setup.sh && npm test']);
    expect(readFileSync('.ci/run', 'utf8')).toContain(block[1]);
  });

  it('every command it shows exists and answers --help', async () => {
    const commands = [...readme.matchAll(/^bluegreen ([a-z][a-z-]*(?: (?:create|status))?)/gm)].map((m) => m[1]);
    expect(commands.length).toBeGreaterThan(12);
    for (const command of new Set(commands)) {
      const r = await bluegreen([...command.split(' '), '--help']);
      expect(r.exitCode, command).toBe(0);
    }
  });

  it('its exit codes are the ones the code uses', () => {
    for (const [name, code] of Object.entries({ ok: ExitCode.ok, failed: ExitCode.failed, usage: ExitCode.usage, blocked: ExitCode.blocked })) {
      expect(readme, name).toMatch(new RegExp(`^\\| ${code} \\| `, 'm'));
    }
  });
});

describe('docker-compose.yml', () => {
  const compose = readFileSync('docker-compose.yml', 'utf8');
  const example = parseConfig(readFileSync('bluegreen.config.example.json', 'utf8'), `${process.cwd()}/bluegreen.config.example.json`, env);
  const ini = readFileSync('docker/pgbouncer/pgbouncer.ini', 'utf8');

  it('publishes blue and green where the example config looks for them, with its database and user', () => {
    const blue = parseConnString(example.blue);
    const green = parseConnString(example.green);
    expect(compose).toContain(`"127.0.0.1:${blue.port}:5432"`);
    expect(compose).toContain(`"127.0.0.1:${green.port}:5432"`);
    expect(compose.match(new RegExp(`POSTGRES_DB: ${blue.database}`, 'g'))).toHaveLength(2);
    expect(compose.match(new RegExp(`POSTGRES_USER: ${blue.user}`, 'g'))).toHaveLength(2);
    expect(compose).toContain('${APP_PASSWORD:?set APP_PASSWORD}');
    expect(compose).toContain('${PGB_PASSWORD:?set PGB_PASSWORD}');
  });

  it('mounts the ini the example config rewrites, whose entry points at blue and whose admin is the config\'s', () => {
    expect(example.pointer.type).toBe('pgbouncer');
    if (example.pointer.type !== 'pgbouncer') return;
    expect(example.pointer.instances[0].ini).toBe(`${process.cwd()}/docker/pgbouncer/pgbouncer.ini`);
    expect(compose).toContain('"./docker/pgbouncer:/etc/pgbouncer"');
    expect(readTarget(ini, example.pointer.database)).toEqual({ host: '127.0.0.1', port: parseConnString(example.blue).port, database: 'app' });
    const admin = parseConnString(example.pointer.instances[0].admin);
    expect(ini).toContain(`listen_port = ${admin.port}`);
    expect(ini).toContain(`admin_users = ${admin.user}`);
  });
});
