import { describe, expect, it } from 'vitest';
import { countedRounds, type GuardRound, guardEventOf, planAction, rollbackCondition } from '../../src/core/guard.js';
import { parseConfig } from '../../src/core/config.js';

const t0 = Date.parse('2025-01-01T00:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000).toISOString();
/** Rounds from a pattern per check: 'x' a failure, '.' a pass, one character a round, one second apart. */
function rounds(pattern: Record<string, string>, extra: Partial<GuardRound> = {}): GuardRound[] {
  const length = Math.max(...Object.values(pattern).map((p) => p.length));
  return Array.from({ length }, (_, i) => ({
    at: at(i), cutover: 'c1', serving: 'green', by: 'guard', failures: 0, condition: false, decision: 'healthy',
    checks: Object.entries(pattern).map(([name, p]) => ({ name, ok: p[i] !== 'x', ms: 1 })),
    ...extra,
  }));
}

describe('rollbackAfter: consecutive failures', () => {
  const rule = { failures: 3 };
  it('holds after three failures in a row of one check', () => {
    expect(rollbackCondition(rounds({ api: '..xxx' }), rule, t0).holds).toBe(true);
    expect(rollbackCondition(rounds({ api: '..xxx' }), rule, t0)).toMatchObject({ failures: 3, description: expect.stringContaining('api failed 3 times in a row') });
  });
  it('a pass in between restarts the count: a flapping check never rolls back', () => {
    expect(rollbackCondition(rounds({ api: 'xx.xx.xx.xx' }), rule, t0)).toMatchObject({ holds: false, failures: 2 });
    expect(rollbackCondition(rounds({ api: 'xx.' }), rule, t0)).toMatchObject({ holds: false, failures: 0 });
  });
  it('failures of different checks do not add up; the worst one counts', () => {
    expect(rollbackCondition(rounds({ api: 'x.x.', web: '.x.x' }), rule, t0).holds).toBe(false);
    expect(rollbackCondition(rounds({ api: '..xx', web: 'xxxx' }), rule, t0)).toMatchObject({ holds: true, failures: 4 });
  });
  it('built-in checks alert but never count', () => {
    const rs = rounds({ api: '....' }).map((r) => ({ ...r, checks: [...r.checks, { name: 'replication', ok: false, ms: 1, builtin: true }] }));
    expect(rollbackCondition(rs, rule, t0).holds).toBe(false);
  });
  it('nothing evaluated: does not hold', () => {
    expect(rollbackCondition([], rule, t0).holds).toBe(false);
  });
});

describe('rollbackAfter: a share of failed checks within a period', () => {
  const rule = { ratio: 0.5, withinMs: 5000 };
  it('holds when half the check results in the period failed', () => {
    // 10 rounds one second apart; the period covers rounds 5..9 at now = 9 s.
    expect(rollbackCondition(rounds({ api: '.....x.x.x' }), rule, t0 + 9000)).toMatchObject({ holds: true, failures: 3 });
    expect(rollbackCondition(rounds({ api: '.....x...x' }), rule, t0 + 9000)).toMatchObject({ holds: false, failures: 2 });
  });
  it('failures older than the period are forgotten', () => {
    expect(rollbackCondition(rounds({ api: 'xxxxx.....' }), rule, t0 + 9000).holds).toBe(false);
  });
  it('counts every check result, not rounds', () => {
    expect(rollbackCondition(rounds({ api: 'xx', web: '..' }), { ratio: 0.5, withinMs: 60_000 }, t0 + 1000)).toMatchObject({ holds: true, failures: 2 });
    expect(rollbackCondition(rounds({ api: 'x.', web: '..' }), { ratio: 0.5, withinMs: 60_000 }, t0 + 1000).holds).toBe(false);
  });
});

describe('the rounds that count', () => {
  it('only this cutover, the side serving now, since it serves, and after a failed rollback', () => {
    const base = rounds({ api: 'xxxxxx' });
    const mixed = [
      { ...base[0], cutover: 'old' },
      { ...base[1], serving: 'blue' as const },
      base[2],
      { ...base[3], decision: 'rollback-failed' as const },
      base[4],
      base[5],
    ];
    expect(countedRounds(mixed, 'c1', 'green').map((r) => r.at)).toEqual([at(4), at(5)]);
    expect(countedRounds(base, 'c1', 'green', at(3)).map((r) => r.at)).toEqual([at(3), at(4), at(5)]);
  });
});

describe('what the guard does when the condition holds', () => {
  const holds = { holds: true, failures: 3, description: 'api failed 3 times in a row' };
  const base = { condition: holds, anyFailing: true, lossless: true, losses: [], allowDataLoss: false, dryRun: false };
  it('rolls back a lossless window', () => {
    expect(planAction(base)).toMatchObject({ act: true, acceptDataLoss: false });
  });
  it('refuses a lossy window, naming the loss; acts on it only with allowDataLoss, accepting the loss', () => {
    expect(planAction({ ...base, lossless: false, losses: ['users.nickname: dropped on green'] })).toMatchObject({ act: false, decision: 'refused', detail: expect.stringContaining('users.nickname') });
    expect(planAction({ ...base, lossless: false, allowDataLoss: true })).toMatchObject({ act: true, acceptDataLoss: true });
    // A verdict that could not be read is not a loss to accept: left to a person, even with allowDataLoss.
    expect(planAction({ ...base, lossless: false, allowDataLoss: true, unknown: 'could not be judged: connection refused' })).toMatchObject({
      act: false,
      decision: 'deferred',
      detail: expect.stringContaining("the rollback's verdict could not be judged: connection refused: left to a person"),
    });
  });
  it('no verdict (freeze mode): acts, and the flip itself refuses a loss', () => {
    expect(planAction({ ...base, lossless: undefined })).toMatchObject({ act: true, acceptDataLoss: false });
  });
  it('dry run says what it would do', () => {
    expect(planAction({ ...base, dryRun: true })).toMatchObject({ act: false, decision: 'would-roll-back' });
  });
  it('below the condition: failing or healthy', () => {
    expect(planAction({ ...base, condition: { ...holds, holds: false } })).toMatchObject({ act: false, decision: 'failing' });
    expect(planAction({ ...base, anyFailing: false, condition: { ...holds, holds: false } })).toMatchObject({ act: false, decision: 'healthy' });
  });
});

describe('notifications: once per change, not once per round', () => {
  const [ok, bad, bad2] = [rounds({ api: '.' })[0], rounds({ api: 'x' })[0], rounds({ api: 'x', web: 'x' })[0]];
  it('a check starting to fail, or another joining it', () => {
    expect(guardEventOf(ok, { ...bad, decision: 'failing' })).toBe('guard.failing');
    expect(guardEventOf({ ...bad, decision: 'failing' }, { ...bad, decision: 'failing' })).toBeUndefined();
    expect(guardEventOf(bad, bad2)).toBe('guard.failing');
    expect(guardEventOf(bad, ok)).toBeUndefined();
  });
  it('a refusal once per reason; every rollback', () => {
    const refused = { ...bad, decision: 'refused' as const, detail: 'lossy' };
    expect(guardEventOf(bad, refused)).toBe('guard.refused');
    expect(guardEventOf(refused, refused)).toBeUndefined();
    expect(guardEventOf(refused, { ...bad, decision: 'rolled-back' })).toBe('guard.rolled-back');
  });
});

describe('guard config', () => {
  const base = { blue: 'postgres://u@h:5432/a', green: 'postgres://u@h:5433/a', pointer: { type: 'file', path: 'p', variable: 'DB' } };
  it('parses the example from the README', () => {
    const c = parseConfig(JSON.stringify({ ...base, guard: { interval: '5s', checks: [{ name: 'api', command: './health.sh', timeoutMs: 3000 }, { name: 'web', url: 'http://127.0.0.1:8080/health' }, { name: 'errors', sql: 'select true' }], rollbackAfter: { failures: 3 } } }), '/x/c.json', {});
    expect(c.guard).toMatchObject({ intervalMs: 5000, rollbackAfter: { failures: 3 }, allowDataLoss: false });
    expect(c.guard!.checks[1]).toMatchObject({ timeoutMs: 5000 });
    const r = parseConfig(JSON.stringify({ ...base, guard: { checks: [{ name: 'a', sql: 'select true' }], rollbackAfter: { ratio: 0.5, within: '5m' } } }), '/x/c.json', {});
    expect(r.guard!.rollbackAfter).toEqual({ ratio: 0.5, withinMs: 300_000 });
  });
  it('reports every problem with its path', () => {
    expect(() => parseConfig(JSON.stringify({ ...base, guard: { interval: 'soon', checks: [{ name: 'a', sql: 'x' }, { name: 'a', sql: 'y' }], rollbackAfter: { ratio: 2, within: '5m' } } }), '/x/c.json', {}))
      .toThrow(/guard\.interval[\s\S]*guard\.checks/);
  });
});

describe('Prometheus', () => {
  it('exposes each check of the last round and the failures counted', async () => {
    const { toPrometheus } = await import('../../src/core/prometheus.js');
    const text = toPrometheus({ phase: 'switched-over', serving: 'green', replication: [], guard: { last: { failures: 2, checks: [{ name: 'web', ok: false }, { name: 'a"b', ok: true }] } } });
    expect(text).toContain('bluegreen_guard_check_ok{check="web"} 0');
    expect(text).toContain('bluegreen_guard_check_ok{check="a\\"b"} 1');
    expect(text).toContain('bluegreen_guard_failures 2');
    expect(text).toContain('# TYPE bluegreen_guard_failures gauge');
  });
});

describe('the report\'s guard section', () => {
  it('folds many rounds into at most 300 columns, a column failing when any of its rounds failed; lists what the guard did', async () => {
    const { buildGuardReport, renderGuardSection } = await import('../../src/core/guard-report.js');
    const many = rounds({ api: `${'.'.repeat(899)}x` });
    many[899] = { ...many[899], decision: 'rolled-back', detail: 'api failed 3 times in a row' };
    const g = buildGuardReport(many)!;
    expect(g.checks[0].columns).toHaveLength(300);
    expect(g.checks[0].columns.at(-1)).toBe(false);
    expect(g.checks[0].columns.filter((c) => c === false)).toHaveLength(1);
    expect(g.decisions).toEqual([expect.objectContaining({ decision: 'rolled-back' })]);
    expect(renderGuardSection(g)).toContain('id="guard-decisions"');
    expect(buildGuardReport([])).toBeUndefined();
  });
});

describe('README: Guarding the window', () => {
  it('its config example is valid', async () => {
    const { readFileSync } = await import('node:fs');
    const json = /## Guarding the window[\s\S]*?```json\n([\s\S]*?)```/.exec(readFileSync('README.md', 'utf8'))![1];
    const c = parseConfig(`{ "blue": "postgres://u@h:5432/a", "green": "postgres://u@h:5433/a", "pointer": { "type": "file", "path": "p", "variable": "DB" }, ${json} }`, '/x/c.json', {});
    expect(c.guard).toMatchObject({ intervalMs: 5000, rollbackAfter: { failures: 3 } });
    expect(c.guard!.checks.map((x) => x.name)).toEqual(['api', 'web', 'errors']);
  });
});

describe('rounds from two guards at once', () => {
  it('count at most one per interval, so "3 in a row" is not reached twice as fast', async () => {
    const { countedRounds, rollbackCondition } = await import('../../src/core/guard.js');
    const round = (ms: number, ok: boolean) => ({ at: new Date(Date.parse('2026-12-06T10:00:00Z') + ms).toISOString(), cutover: 'c', serving: 'green' as const, decision: 'failing' as const, failures: 0, checks: [{ name: 'web', ok, ms: 1 }] });
    // Two guards with a 1 s interval, half a second apart: failing at 0, 0.5, 1.0 s.
    const rounds = [round(-1000, true), round(0, false), round(500, false), round(1000, false)];
    const counted = countedRounds(rounds as never, 'c', 'green', undefined, 1000);
    expect(counted.map((r) => r.at.slice(17, 23))).toEqual(['59.000', '00.000', '01.000']);
    expect(rollbackCondition(counted, { failures: 3 }, Date.parse('2026-12-06T10:00:01Z'))).toMatchObject({ holds: false, failures: 2 });
    expect(countedRounds(rounds as never, 'c', 'green', undefined, 0)).toHaveLength(4);
  });
});
