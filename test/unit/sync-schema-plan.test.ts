import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WindowVerdict } from '../../src/core/window.js';
import { nameOf, Outputs, plannedSteps } from '../../src/operations/operation.js';
import type { SyncCtx } from '../../src/operations/sync-schema/carry-changes.js';
import { owedWork } from '../../src/operations/sync-schema/owed-work.js';
import { syncSchemaPlan } from '../../src/operations/sync-schema/plan.js';

const ctx = { deps: {} as SyncCtx['deps'], state: {} as SyncCtx['state'], fromSide: 'green', toSide: 'blue', from: {} as SyncCtx['from'], to: {} as SyncCtx['to'] } satisfies SyncCtx;
const verdict = { from: 'green', to: 'blue', carry: [], losses: [], notes: [] } as unknown as WindowVerdict;

describe('sync-schema as a plan of operations', () => {
  it('is one step, carry, whose input is the verdict judged before it, and which undoes nothing', () => {
    const plan = syncSchemaPlan(verdict);
    expect(plannedSteps(plan, ctx)).toEqual([{ name: 'carry', status: 'skipped', ms: 0, detail: "planned: Carrying green's changes to blue" }]);
    expect(plan[0].input(new Outputs(ctx))).toBe(verdict);
    expect(plan.map((p) => nameOf(p.op, ctx))).toEqual(['carry']);
    expect(plan[0].op.undo).toBeUndefined();
  });

  it('writes owed work down before it starts, and a later run reads it back until it is cleared', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'owed-'));
    expect(owedWork(dir, 'c1', 'blue').partitionChecks.owed).toEqual([]);
    owedWork(dir, 'c1', 'blue').partitionChecks.save(['public.orders_2026']);
    owedWork(dir, 'c1', 'blue').columnCopies.save([{ table: 'public.users', column: 'tier', setNotNull: false } as never]);
    const later = owedWork(dir, 'c1', 'blue');
    expect(later.partitionChecks.owed).toEqual(['public.orders_2026']);
    expect(later.columnCopies.owed).toHaveLength(1);
    // Owed to one side only: the other direction has its own.
    expect(owedWork(dir, 'c1', 'green').partitionChecks.owed).toEqual([]);
    later.partitionChecks.clear();
    later.columnCopies.clear();
    expect(owedWork(dir, 'c1', 'blue').partitionChecks.owed).toEqual([]);
    expect(owedWork(dir, 'c1', 'blue').columnCopies.owed).toEqual([]);
  });
});
