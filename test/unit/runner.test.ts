import { describe, expect, it } from 'vitest';
import { type Budget, type PlanStep, runPlan } from '../../src/operations/runner.js';

const quiet = { start: () => undefined, succeed: () => undefined, fail: () => undefined };
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recorder() {
  const log: string[] = [];
  const step = (name: string, options: Partial<PlanStep> & { fail?: boolean; ms?: number; undoFails?: boolean } = {}): PlanStep => ({
    name,
    title: `Doing ${name}`,
    together: options.together,
    unbudgeted: options.unbudgeted,
    run: async () => {
      log.push(`run ${name}`);
      if (options.ms) await wait(options.ms);
      if (options.fail) throw new Error(`${name} broke`);
      log.push(`done ${name}`);
      return `${name} ok`;
    },
    undo: async () => {
      log.push(`undo ${name}`);
      if (options.undoFails) throw new Error(`${name} undo broke`);
    },
  });
  return { log, step };
}

describe('the plan runner', () => {
  it('runs every step in order and undoes nothing when all succeed', async () => {
    const { log, step } = recorder();
    const out = await runPlan([step('a'), step('b')], { progress: quiet, secrets: [] });
    expect(out.failed).toBeUndefined();
    expect(out.steps.map((s) => `${s.name}:${s.status}:${s.detail}`)).toEqual(['a:ok:a ok', 'b:ok:b ok']);
    expect(log).toEqual(['run a', 'done a', 'run b', 'done b']);
  });

  it('undoes what ran, in reverse, the failed step included, and skips the rest', async () => {
    const { log, step } = recorder();
    const out = await runPlan([step('pause'), step('freeze'), step('drain', { fail: true }), step('flip')], { progress: quiet, secrets: [] });
    expect(out.failed?.step).toBe('drain');
    expect(out.failed?.error.message).toBe('drain broke');
    expect(out.steps.map((s) => s.status)).toEqual(['ok', 'ok', 'failed', 'skipped']);
    expect(log.filter((l) => l.startsWith('undo'))).toEqual(['undo drain', 'undo freeze', 'undo pause']);
    expect(out.undone).toEqual(['drain undone: done', 'freeze undone: done', 'pause undone: done']);
  });

  it('stops undoing at the first undo that fails, says which, and hands back what is left undone', async () => {
    const { log, step } = recorder();
    const out = await runPlan([step('a'), step('b', { undoFails: true }), step('c', { fail: true })], { progress: quiet, secrets: ['broke'] });
    expect(log.filter((l) => l.startsWith('undo'))).toEqual(['undo c', 'undo b']);
    expect(out.undone).toEqual(['c undone: done', 'b undone: FAILED (b undo ****)']);
    expect(out.notUndone?.map((s) => s.name)).toEqual(['a']);
  });

  it('undoes nothing once a point-of-no-return step has started', async () => {
    const { log, step } = recorder();
    const out = await runPlan([step('pause'), step('flip'), { ...step('resume', { fail: true }), pointOfNoReturn: true }], { progress: quiet, secrets: [] });
    expect(out.failed?.step).toBe('resume');
    expect(out.pastNoReturn).toBe(true);
    expect(out.undone).toEqual([]);
    expect(log.filter((l) => l.startsWith('undo'))).toEqual([]);
  });

  it('runs steps marked together at once', async () => {
    const { log, step } = recorder();
    const start = performance.now();
    const out = await runPlan([step('drain'), step('sequences', { together: 'g', ms: 60 }), step('slot', { together: 'g', ms: 60 }), step('open', { together: 'g', ms: 60 }), step('resume')], { progress: quiet, secrets: [] });
    expect(out.failed).toBeUndefined();
    expect(performance.now() - start).toBeLessThan(150);
    expect(log.slice(1, 5)).toEqual(['done drain', 'run sequences', 'run slot', 'run open']);
    expect(log.at(-1)).toBe('done resume');
  });

  it('when one of a group fails, the others of the group finish and everything that started is undone', async () => {
    const { log, step } = recorder();
    const out = await runPlan([step('a'), step('x', { together: 'g', ms: 30 }), step('y', { together: 'g', fail: true })], { progress: quiet, secrets: [] });
    expect(out.failed?.step).toBe('y');
    expect(log).toContain('done x');
    expect(log.filter((l) => l.startsWith('undo'))).toEqual(['undo y', 'undo x', 'undo a']);
  });

  it('enforces the budget mid-step: the timeout hook runs, the step fails as a timeout, then the undo', async () => {
    const { log, step } = recorder();
    let cancelled = 0;
    const deadline = performance.now() + 50;
    const budget: Budget = { deadline: () => deadline, timeoutMs: 50, onTimeout: async () => void cancelled++ };
    const out = await runPlan([step('before', { unbudgeted: true, ms: 80 }), step('slow', { ms: 500 })], { progress: quiet, secrets: [], budget });
    expect(out.failed?.step).toBe('slow');
    expect(out.failed?.error.message).toMatch(/^switchover\.timeoutMs \(50 ms\) ran out before doing slow$/);
    expect(log).toEqual(['run before', 'done before', 'run slow', 'undo slow', 'undo before']);
    const again = await runPlan([step('slow2', { ms: 500 })], { progress: quiet, secrets: [], budget: { ...budget, deadline: () => performance.now() + 40 } });
    expect(again.failed?.error.message).toBe('switchover.timeoutMs (50 ms) ran out during doing slow2');
    expect(cancelled).toBe(1);
  });
});
