import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { newCutover, type CutoverState } from '../../src/core/state.js';
import type { Client } from '../../src/adapters/pg.js';
import type { Deps } from '../../src/commands/context.js';
import { nameOf, type RunRecord } from '../../src/operations/operation.js';
import { cloneContext, type CloneCtx } from '../../src/operations/clone/context.js';
import { clonePlan, replicationMade } from '../../src/operations/clone/plan.js';
import { freezeBlue } from '../../src/operations/clone/freeze-blue.js';
import { undoFromJournal } from '../../src/operations/clone/recorded.js';

const base = {
  blue: 'postgres://app:pw@127.0.0.1:5432/app',
  green: 'postgres://app:pw@127.0.0.1:5433/app',
  pointer: { type: 'file', path: 'db.env', variable: 'DATABASE_URL' },
};

/** Every statement a side is sent, by its parameters only (never its SQL text). */
type Seen = Array<{ side: 'blue' | 'green'; params: unknown[] }>;

function contextFor(mode: 'freeze' | 'replicate', backup: 'dump' | 'none', seen: Seen = []): CloneCtx {
  const config = parseConfig(JSON.stringify({ ...base, mode, clone: { backup } }), '/srv/c.json', {});
  let state: CutoverState = newCutover('20240101T000000-abcd', mode, '2024-01-01T00:00:00Z', 'me');
  const deps = { config, clock: { now: () => new Date() }, who: 'me' } as unknown as Deps;
  const session = (side: 'blue' | 'green') => ({
    query: async (_text: string, params: unknown[] = []) => {
      seen.push({ side, params });
      return { rows: [], rowCount: 0 };
    },
  });
  const sessions = {
    blue: <T>(fn: (c: Client) => Promise<T>) => fn(session('blue') as unknown as Client),
    green: <T>(fn: (c: Client) => Promise<T>) => fn(session('green') as unknown as Client),
  };
  const record = { state: () => state, update: async (c: Partial<CutoverState>) => void (state = { ...state, ...c }) };
  return cloneContext(deps, record, { sessions });
}

const names = (ctx: CloneCtx) => clonePlan(ctx).map((p) => nameOf(p.op, ctx));
const common = ['freeze-blue', 'copy-roles', 'create-green-database', 'create-publication', 'create-slot', 'copy-large-objects'];
const after = ['update-extensions', 'copy-database-settings', 'freeze-green', 'subscribe-green'];

describe('the clone plan', () => {
  it('dumps, checks and restores with clone.backup "dump"; streams with "none"; the same steps around both in either mode', () => {
    for (const mode of ['freeze', 'replicate'] as const) {
      expect(names(contextFor(mode, 'dump'))).toEqual([...common, 'dump', 'verify-dump', 'restore', ...after]);
      expect(names(contextFor(mode, 'none'))).toEqual([...common, 'dump-schema', 'restore-schema', 'stream-data', 'restore-indexes', ...after]);
    }
  });

  it('says what freeze-blue does in each mode', () => {
    const title = (mode: 'freeze' | 'replicate') => freezeBlue.title(contextFor(mode, 'dump'));
    expect(title('freeze')).toMatch(/^Freezing writes on blue/);
    expect(title('replicate')).toMatch(/^Installing the write guard/);
  });

  it('undoes only what changes a side: blue frozen, the forward link', () => {
    const ctx = contextFor('replicate', 'none');
    const undoable = clonePlan(ctx).filter((p) => p.op.undo).map((p) => nameOf(p.op, ctx));
    expect(undoable).toEqual(['freeze-blue', 'create-publication', 'create-slot', 'subscribe-green']);
  });
});

describe("abort's undo from the clone's journal", () => {
  const journal = (steps: RunRecord['steps']): RunRecord => ({ command: 'clone', cutover: 'c', startedAt: 'then', steps });
  const link = { publication: 'bluegreen_pub_recorded', slot: 'bluegreen_slot_recorded', subscription: 'bluegreen_sub_recorded' };
  const replicating = journal([
    { name: 'freeze-blue', status: 'ok', output: { blueMajor: 17, tableCount: 3, frozen: false } },
    { name: 'create-publication', status: 'ok', output: link },
    { name: 'create-slot', status: 'ok', output: { slot: link.slot, snapshot: '00000003-1', lsn: '0/1' } },
    { name: 'copy-large-objects', status: 'ok' },
    { name: 'subscribe-green', status: 'ok', output: { subscription: link.subscription } },
  ]);
  const both = [...replicationMade.blue, ...replicationMade.green];

  it('drops the objects by the names the journal recorded: the subscription on green before the slot on blue', async () => {
    const seen: Seen = [];
    await undoFromJournal(contextFor('replicate', 'none', seen), replicating, both);
    const named = seen.filter((s) => s.params.length).map((s) => `${s.side} ${s.params.join(',')}`);
    expect(named).toEqual([`green ${link.subscription}`, `blue ${link.slot}`]);
  });

  it('leaves blue alone when only green answers', async () => {
    const seen: Seen = [];
    await undoFromJournal(contextFor('replicate', 'none', seen), replicating, replicationMade.green);
    expect(seen.map((s) => s.side)).toEqual(['green']);
  });

  it('undoes nothing a step did not start, and nothing a step said it did not do', async () => {
    const seen: Seen = [];
    const ctx = contextFor('replicate', 'none', seen);
    await undoFromJournal(ctx, journal([{ name: 'freeze-blue', status: 'ok', output: { blueMajor: 17, tableCount: 3, frozen: false } }]), [
      freezeBlue,
      ...both,
    ]);
    expect(seen).toEqual([]);
    // A freeze the journal shows running when the controller died may have happened: blue is unfrozen.
    await undoFromJournal(ctx, journal([{ name: 'freeze-blue', status: 'running' }]), [freezeBlue]);
    expect(seen.map((s) => s.side)).toContain('blue');
    expect(ctx.record.state().blueFrozen).toBe(false);
  });
});
