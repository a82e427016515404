import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { seedTradingApp } from '../../src/sandbox/trading-app.js';
import { DEMO_MIGRATIONS } from '../../src/sandbox/demo.js';
import { bluegreen, type CliRun } from './run-cli.js';

/** Every file under a folder, recursively (state, audit log, schema records, dump TOC). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe('a cutover driven through the built CLI', () => {
  let sandbox: Sandbox;
  let config: string;
  let env: Record<string, string>;
  const seen: CliRun[] = [];
  const run = async (...args: string[]) => {
    const r = await bluegreen([...args, '--config', config], { env });
    seen.push(r);
    return r;
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ fast: true });
    await seedTradingApp(sandbox.blueUrl, 0.1, sandbox.appUser);
    env = { BG_BLUE_PASSWORD: sandbox.blue.password, BG_GREEN_PASSWORD: sandbox.green.password, BG_PGB_PASSWORD: sandbox.pgbouncer.adminPassword };
    config = path.join(sandbox.dir, 'bluegreen.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        blue: `postgres://postgres:\${BG_BLUE_PASSWORD}@127.0.0.1:${sandbox.blue.port}/app`,
        green: `postgres://postgres:\${BG_GREEN_PASSWORD}@127.0.0.1:${sandbox.green.port}/app`,
        mode: 'freeze',
        migrations: { dir: DEMO_MIGRATIONS },
        pointer: { type: 'pgbouncer', admin: `postgres://pgbadmin:\${BG_PGB_PASSWORD}@127.0.0.1:${sandbox.pgbouncer.port}/pgbouncer`, ini: sandbox.pgbouncer.ini, database: 'app' },
        rollbackWindow: '2h',
      }),
    );
  });
  afterAll(() => sandbox?.stop());

  it('preflight --json prints one JSON object and exits 0', async () => {
    const r = await run('preflight', '--json');
    expect(r.exitCode).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.ok).toBe(true);
    expect(json.findings.every((f: { status: string }) => f.status !== 'block')).toBe(true);
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    const r = await run('clone', '--dry-run');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/freeze-blue\s+– skipped\s+planned: Freezing writes on blue/);
    expect(r.stdout).toContain('Dry run: nothing was changed.');
    const status = JSON.parse((await run('status', '--json')).stdout);
    expect(status).toMatchObject({ phase: 'idle', serving: 'blue' });
  });

  it('run: preflight → clone → migrate → compare → switchover', async () => {
    const r = await run('run');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✔ preflight\n✔ clone/);
    expect(r.stdout).toContain('public.price_alerts');
    expect(r.stdout).toMatch(/Write pause: \d+ ms/);
    const status = JSON.parse((await run('status', '--json')).stdout);
    expect(status).toMatchObject({ phase: 'switched-over', serving: 'green', blueFrozen: true });
  });

  it('compare --json has ok and the tables', async () => {
    const r = await run('compare', '--json');
    expect(r.exitCode).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.ok).toBe(true);
    expect(json.tables).toContainEqual(expect.objectContaining({ table: 'public.orders', blueRows: expect.any(Number), greenRows: expect.any(Number), status: 'ok' }));
  });

  it('rollback --json refuses with exit 3 when green has writes, then rolls back with --accept-data-loss', async () => {
    const pg = await import('pg');
    const app = new pg.default.Client({ connectionString: sandbox.appUrl });
    await app.connect();
    await app.query(`INSERT INTO users (email, name) VALUES ('e2e@example.com', 'e2e')`);
    await app.end();
    const refused = await run('rollback', '--json');
    expect(refused.exitCode).toBe(3);
    expect(JSON.parse(refused.stdout)).toMatchObject({ ok: false, serving: 'green', error: { code: 'data_loss_refused' } });
    expect(refused.stderr).toContain('rolling back would lose 1 row change made on green since the switchover');
    expect(refused.stderr).toContain('public.users: 1 row (1 inserted)');
    const ok = await run('rollback', '--json', '--accept-data-loss');
    expect(ok.exitCode, ok.stderr).toBe(0);
    const json = JSON.parse(ok.stdout);
    expect(json).toMatchObject({ ok: true, serving: 'blue' });
    expect(json.writePauseMs).toEqual(expect.any(Number));
    expect(json.steps.map((s: { name: string }) => s.name)).toEqual(['analyze-blue', 'refresh-materialized-views', 'carry-large-objects', 'check-unlogged-tables', 'blockers', 'guardrails', 'pause', 'freeze-green', 'recount-changes-on-green', 'sync-sequences', 'carry-large-objects-changed', 'copy-unlogged-tables', 'open-blue', 'flip', 'resume', 'stop-counting-on-green']);
  });

  it('status reads like a report', async () => {
    const r = await run('status');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^phase\s+rolled-back$/m);
    expect(r.stdout).toMatch(/^serving\s+blue$/m);
    expect(r.stdout).toContain('in freeze mode start a new cutover with `bluegreen clone`.');
  });

  it('a switchover now is refused with advice (exit 2), changing nothing', async () => {
    const r = await run('switchover');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('cannot switchover while the cutover is rolled-back');
  });

  it('no password ever appears in output, state, audit log or schema records; state is private', () => {
    const secrets = [sandbox.blue.password, sandbox.green.password, sandbox.pgbouncer.adminPassword, sandbox.appPassword];
    const stateDir = path.join(sandbox.dir, '.bluegreen');
    const texts = [...seen.flatMap((r) => [r.stdout, r.stderr])];
    for (const file of filesUnder(stateDir)) {
      if (file.includes(`${path.sep}dumps${path.sep}`) && !file.endsWith('.list')) continue; // table data, not ours to scan
      texts.push(readFileSync(file, 'utf8'));
    }
    expect(texts.length).toBeGreaterThan(10);
    for (const text of texts) for (const secret of secrets) expect(text.includes(secret)).toBe(false);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(stateDir, 'state.json')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(stateDir, 'audit.log')).mode & 0o777).toBe(0o600);
    const audit = readFileSync(path.join(stateDir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.map((a) => `${a.command}:${a.outcome}`)).toEqual(expect.arrayContaining(['clone:ok', 'switchover:ok', 'rollback:blocked', 'rollback:ok']));
  });
});
