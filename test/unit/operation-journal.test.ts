import { describe, expect, it } from 'vitest';
import { type Operation, runOperations, step, type RunRecord } from '../../src/operations/operation.js';

interface Ctx {
  readonly writes: RunRecord[];
}

const before: Operation<Ctx, void, { slot: string; big: string }> = {
  name: 'before',
  title: () => 'Before the pause',
  run: async () => ({ output: { slot: 's1', big: 'x'.repeat(10) } }),
  journalOutput: (out) => ({ slot: out.slot }),
};
const inside: Operation<Ctx, { slot: string; big: string }, { read: string }> = {
  name: 'inside',
  title: () => 'Inside the pause',
  journalBehind: true,
  // No write happens while this step runs: clients are held.
  run: async (ctx, input) => ({ output: { read: `${input.big.length} from ${input.slot} after ${ctx.writes.length} writes` } }),
};

describe('the journal while clients are held', () => {
  it('defers a held step’s entries to the end of the plan, and keeps what `journalOutput` says of an output', async () => {
    const ctx: Ctx = { writes: [] };
    const outcome = await runOperations([step(before), step(inside, (o) => o.need(before))], ctx, {
      progress: { start: () => {}, succeed: () => {}, fail: () => {} },
      secrets: [],
      journal: { sink: { write: async (r) => void ctx.writes.push(r) }, command: 'switchover', cutover: 'c1', startedAt: 'now' },
    });
    expect(outcome.failed).toBeUndefined();
    // The full output in memory for the next step; the journal's projection on disk.
    expect(outcome.outputs.of(inside)).toEqual({ read: '10 from s1 after 2 writes' });
    expect(ctx.writes).toHaveLength(3);
    expect(ctx.writes.at(-1)!.steps).toEqual([
      { name: 'before', status: 'ok', output: { slot: 's1' } },
      { name: 'inside', status: 'ok', output: { read: '10 from s1 after 2 writes' } },
    ]);
    expect(outcome.journaled).toEqual(ctx.writes.at(-1)!.steps);
  });
});
