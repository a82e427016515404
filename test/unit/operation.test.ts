import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Operation, runOperations, step, undoRecorded } from '../../src/operations/operation.js';
import { fileJournal } from '../../src/adapters/run-journal.js';

interface Ctx {
  readonly side: string;
  readonly log: string[];
  readonly failAt?: string;
}

const createSlot: Operation<Ctx, void, { slot: string }> = {
  name: 'create-slot',
  title: (ctx) => `Creating a slot on ${ctx.side}`,
  run: async (ctx) => {
    ctx.log.push('create slot');
    return { output: { slot: `slot_${ctx.side}` }, detail: 'made' };
  },
  undo: async (ctx, out) => void ctx.log.push(`drop ${out?.slot ?? 'nothing'}`),
};

const subscribe: Operation<Ctx, { slot: string }, { subscription: string }> = {
  name: (ctx) => `subscribe-${ctx.side}`,
  title: () => 'Subscribing',
  run: async (ctx, input) => {
    if (ctx.failAt === 'subscribe') throw new Error('no route to host');
    ctx.log.push(`subscribe to ${input.slot}`);
    return { output: { subscription: `sub_for_${input.slot}` } };
  },
  undo: async (ctx, out) => void ctx.log.push(`unsubscribe ${out?.subscription ?? '(never made)'}`),
};

const plan = [step(createSlot), step(subscribe, (o) => o.need(createSlot))];
const options = { progress: { start: () => {}, succeed: () => {}, fail: () => {} }, secrets: [] };

describe('operations as data', () => {
  it('passes declared outputs from step to step and journals each one', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'journal-'));
    const journal = fileJournal(dir, 'c1', 'clone');
    const ctx: Ctx = { side: 'green', log: [] };
    const outcome = await runOperations(plan, ctx, {
      ...options,
      journal: { sink: journal, command: 'clone', cutover: 'c1', startedAt: 'now' },
    });
    expect(outcome.failed).toBeUndefined();
    expect(ctx.log).toEqual(['create slot', 'subscribe to slot_green']);
    expect(journal.read()?.steps).toEqual([
      { name: 'create-slot', status: 'ok', output: { slot: 'slot_green' }, detail: 'made' },
      { name: 'subscribe-green', status: 'ok', output: { subscription: 'sub_for_slot_green' } },
    ]);
  });

  it('undoes in reverse with each output on a failure, including the step that failed', async () => {
    const ctx: Ctx = { side: 'green', log: [], failAt: 'subscribe' };
    const outcome = await runOperations(plan, ctx, options);
    expect(outcome.failed?.step).toBe('subscribe-green');
    expect(ctx.log).toEqual(['create slot', 'unsubscribe (never made)', 'drop slot_green']);
  });

  it('undoes from the journal alone, as resume and abort do after the controller is gone', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'journal-'));
    const journal = fileJournal(dir, 'c1', 'clone');
    await journal.write({
      command: 'clone',
      cutover: 'c1',
      startedAt: 'then',
      steps: [
        { name: 'create-slot', status: 'ok', output: { slot: 'slot_from_before' } },
        { name: 'subscribe-green', status: 'running' },
      ],
    });
    const ctx: Ctx = { side: 'green', log: [] };
    const undone = await undoRecorded(plan, ctx, journal.read()!, []);
    expect(undone.failed).toBeUndefined();
    expect(ctx.log).toEqual(['unsubscribe (never made)', 'drop slot_from_before']);
  });

  it('says plainly when a step needs an output no earlier step recorded', async () => {
    const ctx: Ctx = { side: 'blue', log: [] };
    const outcome = await runOperations([step(subscribe, (o) => o.need(createSlot))], ctx, options);
    expect(outcome.failed?.error.message).toMatch(/step create-slot has no recorded output/);
  });
});
