import { describe, expect, it } from 'vitest';
import type { Deps } from '../../src/commands/context.js';
import type { CutoverState } from '../../src/core/state.js';
import { Outputs, nameOf } from '../../src/operations/operation.js';
import type { FlipContext, FlipDirection, FlipSessions } from '../../src/operations/flip/context.js';
import { acceptedLossesOf, flipPlan, lostWritesOf } from '../../src/operations/flip/plan.js';

const switchover: FlipDirection = { direction: 'switchover', from: 'blue', to: 'green' };
const rollback: FlipDirection = { direction: 'rollback', from: 'green', to: 'blue' };

function contextFor(flip: FlipDirection, mode: 'replicate' | 'freeze', state: Partial<CutoverState> = {}, verify = false): FlipContext {
  const deps = {
    config: { mode, switchover: { verify, unloggedCopyMaxRows: 10_000 }, pointer: { type: 'pgbouncer', database: 'app' } },
    pointer: { description: 'PgBouncer' },
  } as unknown as Deps;
  return {
    deps,
    flip,
    state: { id: 'c1', flips: [], history: [], ...state } as unknown as CutoverState,
    sessions: {} as FlipSessions,
    next: { publication: 'pub', slot: 'slot', subscription: 'sub' },
    acceptDataLoss: false,
    startBudget: () => undefined,
    deadline: () => 0,
    live: {},
  };
}

function names(ctx: FlipContext) {
  const { main, after } = flipPlan(ctx);
  return { main: main.map((p) => nameOf(p.op, ctx)), after: after.map((p) => nameOf(p.op, ctx)) };
}

describe('the flip plan', () => {
  it('replicate switchover: the runbook in order, its groups, its budget and its point of no return', () => {
    const ctx = contextFor(switchover, 'replicate');
    expect(names(ctx)).toEqual({
      main: [
        'analyze-green',
        'sync-schema',
        'carry-to-blue',
        'refresh-materialized-views',
        'carry-large-objects',
        'check-unlogged-tables',
        'blockers',
        'guardrails',
        'prepare-reverse',
        'pause',
        'freeze-blue',
        'drain',
        'sync-sequences',
        'carry-large-objects-changed',
        'copy-unlogged-tables',
        'start-reverse-slot',
        'open-green',
        'flip',
        'resume',
      ],
      after: ['stop-forward', 'subscribe-reverse'],
    });
    const { main } = flipPlan(ctx);
    const together = (label: string) => main.filter((p) => p.op.together === label).map((p) => nameOf(p.op, ctx));
    expect(together('after-freeze')).toEqual(['drain', 'sync-sequences']);
    expect(together('after-drain')).toEqual(['copy-unlogged-tables', 'start-reverse-slot', 'open-green']);
    expect(main.filter((p) => p.op.unbudgeted).map((p) => nameOf(p.op, ctx))).toEqual(main.slice(0, 7).map((p) => nameOf(p.op, ctx)));
    expect(main.filter((p) => p.op.pointOfNoReturn).map((p) => nameOf(p.op, ctx))).toEqual(['resume']);
    // What an undo says, as the operator reads it.
    const undone = main.filter((p) => p.op.undo).map((p) => p.op.undone?.(ctx));
    expect(undone).toEqual(['slot slot dropped', 'transactions resumed', 'blue reopened', 'green frozen again', 'pointer back to blue']);
  });

  it('switchover.verify adds the exact check after the drain', () => {
    expect(names(contextFor(switchover, 'replicate', {}, true)).main).toContain('verify');
    expect(names(contextFor(switchover, 'replicate', {}, true)).main.indexOf('verify')).toBe(13);
  });

  it('a managed switchover that gave up a lossless rollback prepares no reverse direction', () => {
    const ctx = contextFor(switchover, 'replicate', { privileges: { rollbackLossless: false } as CutoverState['privileges'] });
    const { main, after } = names(ctx);
    expect(main).not.toContain('prepare-reverse');
    expect(main).not.toContain('start-reverse-slot');
    expect(after).toEqual(['stop-forward']);
    expect(main).toHaveLength(17);
  });

  it('freeze switchover counts green’s changes from the start, and has nothing after RESUME', () => {
    expect(names(contextFor(switchover, 'freeze'))).toEqual({
      main: [
        'analyze-green',
        'refresh-materialized-views',
        'count-changes-on-green',
        'carry-large-objects',
        'check-unlogged-tables',
        'blockers',
        'guardrails',
        'pause',
        'freeze-blue',
        'sync-sequences',
        'carry-large-objects-changed',
        'copy-unlogged-tables',
        'open-green',
        'flip',
        'resume',
      ],
      after: [],
    });
  });

  it('freeze rollback recounts inside the pause and removes the counters after RESUME', () => {
    expect(names(contextFor(rollback, 'freeze', { greenXidAtSwitchover: '900' }))).toEqual({
      main: [
        'analyze-blue',
        'refresh-materialized-views',
        'carry-large-objects',
        'check-unlogged-tables',
        'blockers',
        'guardrails',
        'pause',
        'freeze-green',
        'recount-changes-on-green',
        'sync-sequences',
        'carry-large-objects-changed',
        'copy-unlogged-tables',
        'open-blue',
        'flip',
        'resume',
      ],
      after: ['stop-counting-on-green'],
    });
  });

  it('the recount is fed the guardrails’ count, and what was given up is read from the declared outputs in order', () => {
    const ctx = contextFor(rollback, 'freeze', { greenXidAtSwitchover: '900' });
    const { main } = flipPlan(ctx);
    const counted = {
      lostWrites: [{ table: 'public.orders', written: 2 }],
      losses: [{ object: 'table public.orders', what: '2 rows' }],
      totalBeforePause: 2,
    };
    const outputs = new Outputs(ctx, new Map<string, unknown>([['guardrails', { greenChanges: counted }]]));
    const recount = main.find((p) => nameOf(p.op, ctx) === 'recount-changes-on-green')!;
    expect(recount.input(outputs)).toEqual(counted);
    expect(lostWritesOf(outputs)).toEqual(counted.lostWrites);
    outputs.values.set('carry-large-objects', { horizon: '1', losses: [{ object: 'large objects', what: 'changed' }] });
    outputs.values.set('recount-changes-on-green', {
      lostWrites: [{ table: 'public.orders', written: 3 }],
      losses: [{ object: 'table public.orders', what: '3 rows' }],
    });
    expect(lostWritesOf(outputs)).toEqual([{ table: 'public.orders', written: 3 }]);
    expect(acceptedLossesOf(outputs)?.map((l) => `${l.object}: ${l.what}`)).toEqual([
      'large objects: changed',
      'table public.orders: 3 rows',
    ]);
    expect(acceptedLossesOf(new Outputs(ctx))).toBeUndefined();
  });
});
