import { describe, expect, it } from 'vitest';
import { nameOf, Outputs, plannedSteps } from '../../src/operations/operation.js';
import type { FinalizeCtx } from '../../src/operations/finalize/context.js';
import { finalizePlan, sidesToClean } from '../../src/operations/finalize/plan.js';
import { retireSide } from '../../src/operations/finalize/retire-side.js';
import { fileJournal } from '../../src/adapters/run-journal.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CutoverState } from '../../src/core/state.js';

const ctx = { deps: {} as FinalizeCtx['deps'], cutover: 'c1', serving: 'green', retired: 'blue', at: () => 'now' } satisfies FinalizeCtx;

describe('finalize as a plan of operations', () => {
  it('reads as its runbook: retire the old side, drop replication, clean the serving side', () => {
    expect(plannedSteps(finalizePlan, ctx).map((s) => s.name)).toEqual(['retire-blue', 'drop-replication', 'clean-green']);
    expect(plannedSteps(finalizePlan, { ...ctx, serving: 'blue', retired: 'green' }).map((s) => s.name)).toEqual([
      'retire-green',
      'drop-replication',
      'clean-blue',
    ]);
    expect(finalizePlan.every((p) => p.op.undo === undefined)).toBe(true);
  });

  it('passes whether the retired side answered as a declared output, not a shared variable', () => {
    const outputs = new Outputs(ctx, new Map([[nameOf(retireSide, ctx), { gone: 'connection refused' }]]));
    const drop = finalizePlan.find((p) => nameOf(p.op, ctx) === 'drop-replication')!;
    expect(drop.input(outputs)).toEqual({ gone: 'connection refused' });
    expect(() => drop.input(new Outputs(ctx))).toThrow(/retire-blue has no recorded output/);
  });

  it("tells resume to clean only the serving side when the journal says the retired side was gone", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'finalize-'));
    const state = { id: 'c1', serving: 'green' } as CutoverState;
    expect(sidesToClean(dir, state)).toBeUndefined();
    const journal = fileJournal(dir, 'c1', 'finalize');
    const record = { command: 'finalize', cutover: 'c1', startedAt: 'then' };
    await journal.write({ ...record, steps: [{ name: 'retire-blue', status: 'ok', output: {} }] });
    expect(sidesToClean(dir, state)).toBeUndefined();
    await journal.write({ ...record, steps: [{ name: 'retire-blue', status: 'skipped', output: { gone: 'timeout' } }] });
    expect(sidesToClean(dir, state)).toEqual(['green']);
  });
});
