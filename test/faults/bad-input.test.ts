/**
 * Bad input, each case the message a user sees from the built CLI, its exit code, no stack trace,
 * and nothing changed on blue (no guard, no slot, no publication, no frozen flag).
 * Fast clusters: no durability asserted.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { seedTradingApp } from '../../src/sandbox/trading-app.js';
import { bluegreen } from '../e2e/run-cli.js';
import { sql } from '../integration/helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bluegreen-bad-'));
const base = {
  blue: 'postgres://app:${APP_PASSWORD}@127.0.0.1:5432/app',
  green: 'postgres://app:${APP_PASSWORD}@127.0.0.1:5433/app',
  pointer: { type: 'pgbouncer', admin: 'postgres://pgbadmin:${PGB_PASSWORD}@127.0.0.1:6432/pgbouncer', ini: 'pgbouncer.ini', database: 'app' },
};
const env = { APP_PASSWORD: 'app-secret-1', PGB_PASSWORD: 'pgb-secret-2' };
let n = 0;
function write(config: unknown): string {
  const file = path.join(dir, `c${n++}.json`);
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config));
  return file;
}

type Case = readonly [name: string, config: unknown, expected: ReadonlyArray<string>];
const configCases: ReadonlyArray<Case> = [
  ['malformed JSON', '{ "blue": "x", }', ['is not valid JSON']],
  ['not an object', '[1, 2]', [': must be a JSON object'.slice(2)]],
  ['an unknown key', { ...base, colour: 'blue' }, ['colour: unknown key (check its spelling)']],
  ['an unknown nested key', { ...base, pointer: { ...base.pointer, inii: 'x' } }, ['pointer.inii: unknown key (check its spelling)']],
  ['a missing field', { green: base.green, pointer: base.pointer }, ['blue: is required']],
  ['a missing pointer', { blue: base.blue, green: base.green }, ['pointer: ']],
  ['a bad ${VAR}', { ...base, blue: 'postgres://app:${1BAD}@h:1/app' }, ['blue: "${1BAD}" is not a valid environment variable reference']],
  ['an unset ${VAR}', { ...base, green: 'postgres://app:${NOT_SET_HERE}@h:2/app' }, ['green: environment variable NOT_SET_HERE is not set']],
  ['an unterminated ${', { ...base, stateDir: 'state-${HOME' }, ['stateDir: unterminated "${" (write ${NAME})']],
  ['a URL that is not one', { ...base, blue: 'localhost:5432' }, ['blue: must start with postgres://']],
  ['another database scheme', { ...base, blue: 'mysql://u@h/app' }, ['blue: must start with postgres:// (got mysql://)']],
  ['a URL without a database', { ...base, green: 'postgres://u@h:5433' }, ['green: names no database (add /dbname after the host)']],
  ['blue and green the same database', { ...base, green: 'postgres://other@localhost:5432/app' }, ['green: points at the same database as blue (localhost:5432/app)']],
  ['a window of -1h', { ...base, rollbackWindow: '-1h' }, ['rollbackWindow: "-1h" is not a positive duration (use e.g. 90s, 30m, 24h, 2d)']],
  ['a window that is not a duration', { ...base, rollbackWindow: 'soon' }, ['rollbackWindow: "soon" is not a positive duration']],
  ['an unknown mode', { ...base, mode: 'fast' }, ['mode: ']],
  ['a negative timeout', { ...base, switchover: { timeoutMs: -1 } }, ['switchover.timeoutMs: ']],
  ['a pause timeout over the whole timeout', { ...base, switchover: { timeoutMs: 1000, pauseTimeoutMs: 5000 } }, ['switchover.pauseTimeoutMs: must not exceed switchover.timeoutMs']],
  ['an unknown pointer type', { ...base, pointer: { type: 'haproxy' } }, ['pointer.type: ']],
  ['an admin URL not on the pgbouncer database', { ...base, pointer: { ...base.pointer, admin: 'postgres://a@h:6432/app' } }, ['pointer.admin: must connect to the "pgbouncer" admin database (…/pgbouncer)']],
  ['a file pointer variable that is not a name', { ...base, pointer: { type: 'file', path: 'db.env', variable: 'DATABASE URL' } }, ['pointer.variable: must be a shell variable name']],
  ['migrations with both dir and command', { ...base, migrations: { dir: 'm', command: 'flyway migrate' } }, ['migrations']],
];

describe('bad config: exit 2, every problem named with its path', () => {
  it.each(configCases)('%s', async (_name, config, expected) => {
    const r = await bluegreen(['preflight', '--config', write(config)], { env });
    expect(r.exitCode).toBe(2);
    for (const line of expected) expect(r.stderr).toContain(line);
    expect(r.stderr).not.toMatch(/\n\s+at \S+ \(/); // no stack trace
  });

  it('a config file that does not exist', async () => {
    const r = await bluegreen(['status', '--config', path.join(dir, 'missing.json')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(`✖ ${path.join(dir, 'missing.json')}: 1 problem\n  - file not found\n  Pass --config <file>, or create bluegreen.config.json (see the README for an example).`);
  });

  it('an unknown command, and a bad option value', async () => {
    expect((await bluegreen(['swtichover'])).stderr).toContain("error: unknown command 'swtichover'");
    const demo = await bluegreen(['demo', '--mode', 'fast']);
    expect(demo.exitCode).toBe(2);
    expect(demo.stderr).toBe('✖ --mode must be replicate or freeze (got "fast")');
  });
});

describe('bad input against real servers: a clear refusal, nothing changed on blue', () => {
  let sb: Sandbox;
  const blueUntouched = async () => {
    expect(await sql(sb.blueUrl, `SELECT (SELECT count(*) FROM pg_replication_slots)::int AS slots, (SELECT count(*) FROM pg_publication)::int AS pubs,
      to_regclass('bluegreen.write_guard') IS NULL AS no_guard`)).toEqual([{ slots: 0, pubs: 0, no_guard: true }]);
  };
  const config = (over: Record<string, unknown> = {}) =>
    write({
      blue: `postgres://postgres:\${BLUE_PW}@127.0.0.1:${sb.blue.port}/app`,
      green: `postgres://postgres:\${GREEN_PW}@127.0.0.1:${sb.green.port}/app`,
      pointer: { type: 'pgbouncer', admin: `postgres://pgbadmin:\${PGB_PW}@127.0.0.1:${sb.pgbouncer.port}/pgbouncer`, ini: sb.pgbouncer.ini, database: 'app' },
      stateDir: path.join(dir, `state${n}`),
      ...over,
    });
  const envFor = () => ({ BLUE_PW: sb.blue.password, GREEN_PW: sb.green.password, PGB_PW: sb.pgbouncer.adminPassword });
  beforeAll(async () => {
    sb = await startSandbox({ fast: true });
    await seedTradingApp(sb.blueUrl, 0.05, sb.appUser);
  });
  afterAll(() => sb?.stop());

  it('a wrong password on blue', async () => {
    const r = await bluegreen(['clone', '--config', config()], { env: { ...envFor(), BLUE_PW: 'wrong-password-x' } });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain(`✖ blue: cannot connect to blue (postgres@127.0.0.1:${sb.blue.port}/app): authentication failed for user "postgres"`);
    expect(r.stderr + r.stdout).not.toContain('wrong-password-x');
    await blueUntouched();
  });

  it('a wrong password on green', async () => {
    const r = await bluegreen(['clone', '--config', config()], { env: { ...envFor(), GREEN_PW: 'wrong-password-y' } });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain(`✖ green: cannot connect to green (postgres@127.0.0.1:${sb.green.port}/postgres): authentication failed for user "postgres"`);
    await blueUntouched();
  });

  it('an unreachable host', async () => {
    const r = await bluegreen(['clone', '--config', config({ green: 'postgres://postgres:x@127.0.0.1:1/app' })], { env: envFor() });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('✖ green: cannot connect to green (postgres@127.0.0.1:1/postgres): connection refused');
    await blueUntouched();
  });

  it('a green that is not empty', async () => {
    await sql(sb.greenUrl.replace(/\/app$/, '/postgres'), 'CREATE DATABASE app');
    await sql(sb.greenUrl, 'CREATE TABLE leftover (id int)');
    try {
      const r = await bluegreen(['clone', '--config', config()], { env: envFor() });
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toContain(`✖ green's database "app" is not empty (1 tables)`);
      expect(r.stderr).toContain('fix: Green must be empty: point green at an empty or missing database.');
      await blueUntouched();
    } finally {
      await sql(sb.greenUrl.replace(/\/app$/, '/postgres'), 'DROP DATABASE app WITH (FORCE)');
    }
  });

  it('a table without a key in replicate mode', async () => {
    await sql(sb.blueUrl, 'CREATE TABLE audit_log (at timestamptz, line text)');
    try {
      const r = await bluegreen(['preflight', '--config', config({ mode: 'replicate' })], { env: envFor() });
      expect(r.exitCode).toBe(3);
      expect(r.stdout).toContain('✖ block 1 table without a primary key or replica identity: public.audit_log');
      expect(r.stdout).toContain('fix: Add a primary key, or ALTER TABLE public.audit_log REPLICA IDENTITY FULL (slower) / USING INDEX <unique index>.');
      await blueUntouched();
    } finally {
      await sql(sb.blueUrl, 'DROP TABLE audit_log');
    }
  });

  it('an unsafe migration in replicate mode', async () => {
    const migrations = path.join(dir, 'unsafe');
    (await import('node:fs')).mkdirSync(migrations);
    writeFileSync(path.join(migrations, '0001_drop.up.sql'), 'ALTER TABLE orders DROP COLUMN limit_price;\n');
    const r = await bluegreen(['preflight', '--config', config({ mode: 'replicate', migrations: { dir: migrations } })], { env: envFor() });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toContain('0001_drop.up.sql:1:1: ALTER TABLE orders DROP COLUMN limit_price');
    expect(r.stdout).toContain('instead: keep the column and stop writing it; drop it in a later cutover (contract phase)');
    await blueUntouched();
  });

  it('sync-schema with nothing replicating', async () => {
    const r = await bluegreen(['sync-schema', '--config', config({ mode: 'replicate' })], { env: envFor() });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^✖ sync-schema needs replication running from the serving side \(replicate mode, after a clone; the cutover is [a-z-]+\)\n {2}Run it between the clone and finalize, in replicate mode\.\n?$/);
  });

  it('a migration with a syntax error, and a changed applied migration (freeze mode, after a clone)', async () => {
    const migrations = path.join(dir, 'syntax');
    (await import('node:fs')).mkdirSync(migrations);
    writeFileSync(path.join(migrations, '0001_ok.up.sql'), 'ALTER TABLE users ADD COLUMN tier text;\n');
    const file = config({ mode: 'freeze', migrations: { dir: migrations } });
    expect((await bluegreen(['clone', '--config', file], { env: envFor() })).exitCode).toBe(0);
    expect((await bluegreen(['migrate', '--config', file], { env: envFor() })).exitCode).toBe(0);
    writeFileSync(path.join(migrations, '0002_typo.up.sql'), 'ALTER TABLE users\n  ADD COLUMN nickname txet;\n');
    const typo = await bluegreen(['migrate', '--config', file], { env: envFor() });
    expect(typo.exitCode).toBe(1);
    expect(typo.stderr).toContain('✖ migration 0002_typo.up.sql failed at line 2, column 23:\n    ADD COLUMN nickname txet;\n  type "txet" does not exist (SQLSTATE 42704)');
    expect(typo.stderr).toContain('It was rolled back: green is as it was before this migration.');
    writeFileSync(path.join(migrations, '0001_ok.up.sql'), 'ALTER TABLE users ADD COLUMN tier varchar(10);\n');
    const changed = await bluegreen(['migrate', '--config', file], { env: envFor() });
    expect(changed.exitCode).toBe(1);
    expect(changed.stderr).toContain('✖ applied migration has changed since: 0001_ok.up.sql');
    expect(changed.stderr).toContain('An applied migration must never be edited: restore the file, and put the change in a new migration.');
    await bluegreen(['abort', '--config', file], { env: envFor() });
  });
});
