/**
 * A reading that fails is "unknown: why" (text, JSON, exit code), never an empty list or a default:
 * `migrations status` with green unreachable, `status` when a side's DDL log cannot be read, the
 * report's parts, and the DDL log's own trigger when it cannot record a change.
 * Fast clusters: no durability asserted.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { renderStatus } from '../../src/cli/render.js';
import { _clone } from '../../src/commands/clone.js';
import { _report } from '../../src/commands/report.js';
import { _status } from '../../src/commands/status.js';
import { toPrometheus } from '../../src/core/prometheus.js';
import { freePort } from '../../src/sandbox/cluster.js';
import { type Rig, sql, startRig } from '../integration/helpers.js';

/** Runs the CLI in-process; returns what it printed and the exit code it set. */
async function cli(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  let stdout = '';
  let stderr = '';
  let code = -1;
  await buildProgram({ stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) }, (c) => void (code = c)).parseAsync(args, { from: 'user' });
  return { stdout, stderr, code };
}

/** Our own sessions are left out of the DDL log: the test changes the log's table as one of them. */
const asBluegreen = (url: string) => `${url}${url.includes('?') ? '&' : '?'}application_name=bluegreen%20test`;

describe('errors never read as data', () => {
  let rig: Rig;
  let badGreenConfig: string;
  beforeAll(async () => {
    rig = await startRig({ config: { mode: 'replicate' } });
    Object.assign(process.env, rig.env);
    expect((await _clone(rig.deps)).error).toBeUndefined();
    // The same config with green on a port nothing listens on.
    const json = JSON.parse(readFileSync(rig.configFile, 'utf8'));
    json.green = json.green.replace(`:${rig.sandbox.green.port}/`, `:${await freePort()}/`);
    badGreenConfig = path.join(rig.dir, 'bad-green.config.json');
    writeFileSync(badGreenConfig, JSON.stringify(json));
  });
  afterAll(() => rig?.stop());

  it('migrations status with green unreachable: unknown, exit 1, in text and JSON; never "pending"', async () => {
    const text = await cli(['migrations', 'status', '--config', badGreenConfig]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^Migrations on green: unknown: cannot connect to green .*connection refused/);
    expect(text.stdout).not.toMatch(/pending/);
    const json = await cli(['migrations', 'status', '--config', badGreenConfig, '--json']);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout);
    expect(parsed).toMatchObject({ ok: false, migrations: [], error: { message: expect.stringMatching(/^migrations on green: unknown: cannot connect to green/) } });
    // And green reachable: the four demo migrations are pending, exit 0 (the same command reads data when it can).
    const good = await cli(['migrations', 'status', '--config', rig.configFile, '--json']);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout).migrations.map((m: { status: string }) => m.status)).toEqual(['pending', 'pending', 'pending', 'pending']);
  });

  it('status: a DDL log that cannot be read is "unknown: why" in JSON, text and Prometheus, not "no DDL"', async () => {
    await sql(rig.sandbox.blueUrl, 'CREATE TABLE blue_only (id int)');
    await sql(asBluegreen(rig.sandbox.blueUrl), 'ALTER TABLE bluegreen.ddl_log RENAME COLUMN statement TO stmt');
    try {
      const status = await _status(rig.deps);
      const blue = status.ddl.find((d) => d.side === 'blue')!;
      expect(blue.entries).toEqual([]);
      expect(blue.error).toMatch(/^unknown: blue: column "statement" does not exist/);
      expect(status.ddl.find((d) => d.side === 'green')).toMatchObject({ entries: [] });
      expect(status.ddl.find((d) => d.side === 'green')!.error).toBeUndefined();
      expect(renderStatus(status, Date.now())).toMatch(/DDL on blue\s+unknown: blue: column "statement" does not exist/);
      expect(toPrometheus(status)).toContain('bluegreen_reading_ok{reading="ddl_log_blue"} 0');
      expect(toPrometheus(status)).toContain('bluegreen_reading_ok{reading="ddl_log_green"} 1');
    } finally {
      await sql(asBluegreen(rig.sandbox.blueUrl), 'ALTER TABLE bluegreen.ddl_log RENAME COLUMN stmt TO statement');
    }
    // Readable again: the change made before is there.
    const after = (await _status(rig.deps)).ddl.find((d) => d.side === 'blue')!;
    expect(after.error).toBeUndefined();
    expect(after.entries.map((e) => `${e.command} ${e.object}`)).toContain('CREATE TABLE public.blue_only');
  });

  it('the DDL log never swallows a failure: a marker that status reports, or the DDL refused when even that fails', async () => {
    // A log row the table refuses (a constraint someone added): the change is still known to have happened.
    await sql(asBluegreen(rig.sandbox.blueUrl), `ALTER TABLE bluegreen.ddl_log ADD CONSTRAINT not_this CHECK (object IS DISTINCT FROM 'public.missed_one')`);
    await sql(rig.sandbox.blueUrl, 'CREATE TABLE missed_one (id int)');
    const status = await _status(rig.deps);
    const blue = status.ddl.find((d) => d.side === 'blue')!;
    expect(blue.entries.map((e) => e.object)).not.toContain('public.missed_one');
    expect(blue.missed).toHaveLength(1);
    expect(blue.missed![0].reason).toMatch(/violates check constraint "not_this".*during CREATE TABLE\): CREATE TABLE missed_one/);
    expect(renderStatus(status, Date.now())).toMatch(/DDL on blue\s+the DDL log MISSED 1 change/);
    expect(toPrometheus(status)).toContain('bluegreen_ddl_log_missed{side="blue"} 1');
    // No row can be written at all: the DDL fails with our message rather than going unseen.
    await sql(asBluegreen(rig.sandbox.blueUrl), 'ALTER TABLE bluegreen.ddl_log ADD CONSTRAINT nothing CHECK (false) NOT VALID');
    await expect(sql(rig.sandbox.blueUrl, 'CREATE TABLE refused_one (id int)')).rejects.toThrow(/pg-bluegreen could not record this DDL in its log, nor a marker/);
    expect(await sql(rig.sandbox.blueUrl, `SELECT to_regclass('refused_one') AS t`)).toEqual([{ t: null }]);
    await sql(asBluegreen(rig.sandbox.blueUrl), 'ALTER TABLE bluegreen.ddl_log DROP CONSTRAINT nothing, DROP CONSTRAINT not_this');
  });

  it('report: migrations and verdict unknown when green is unreachable, not "none" or "nothing replicates"', async () => {
    const green = rig.deps.config.green.replace(`:${rig.sandbox.green.port}/`, `:${await freePort()}/`);
    const { data } = await _report({ ...rig.deps, config: { ...rig.deps.config, green } });
    expect(data.migrations).toEqual([]);
    expect(data.migrationsError).toMatch(/^unknown: cannot connect to green/);
    expect(data.verdict).toBeUndefined();
    expect(data.verdictError).toMatch(/^unknown: the next switchover could not be judged: cannot connect to green/);
  });
});
