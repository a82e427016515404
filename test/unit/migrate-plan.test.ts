import { describe, expect, it } from 'vitest';
import { BlueGreenError } from '../../src/core/errors.js';
import type { Migration } from '../../src/core/migrations.js';
import { type Operation, nameOf, plannedSteps, runOperations, step } from '../../src/operations/operation.js';
import type { LockedCtx, MigrateCtx } from '../../src/operations/migrate/context.js';
import { applyPlan, checkPlan, externalPlan } from '../../src/operations/migrate/plan.js';
import { revertMigration } from '../../src/operations/migrate/revert-migration.js';

const migration = (version: string, name: string, transactional = true): Migration =>
  ({ version, name, upFile: `${version}_${name}.up.sql`, up: '-- sql', checksum: 'x', transactional }) as Migration;
const pending = [migration('0001', 'add_tier'), migration('0002', 'index_orders', false)];
const ctx = { deps: {} as MigrateCtx['deps'], dryRun: false, green: {} as LockedCtx['green'] };

describe('migrate as a plan of operations', () => {
  it('checks the effect of what is pending once, before anything is applied, and only when something is', () => {
    expect(checkPlan([])).toEqual([]);
    expect(plannedSteps(checkPlan(pending), ctx)).toEqual([
      { name: 'effect-check', status: 'skipped', ms: 0, detail: 'planned: Checking the effect of 2 migrations on a scratch copy of green' },
    ]);
    // Its undo drops a scratch copy a killed controller left: what resume does.
    expect(checkPlan(pending)[0].op.undo).toBeTypeOf('function');
  });

  it('applies each pending file as a step named by it, in order, none undone (each is all or nothing, recorded with itself)', () => {
    const plan = applyPlan(pending);
    expect(plan.map((p) => nameOf(p.op, ctx))).toEqual(['0001_add_tier.up.sql', '0002_index_orders.up.sql']);
    expect(plan.every((p) => p.op.undo === undefined && p.op.ownProgress)).toBe(true);
    // A failed migration's line in the report is its failing statement, not the first line of the error.
    const error = new BlueGreenError('migration 0001_add_tier.up.sql failed at line 2, column 3:\n    ALTER TABLE x;\n  why');
    expect(plan[0].op.failureDetail!(error)).toBe('ALTER TABLE x;');
  });

  it('reverts with the down script as a step named by that file', () => {
    const down = revertMigration({ ...pending[0], down: '-- undo', downFile: '0001_add_tier.down.sql' });
    expect(nameOf(down, ctx)).toBe('0001_add_tier.down.sql');
  });

  it('an external tool: its effect on a scratch copy in replicate mode, then the tool on green unless a dry run', () => {
    const tool = { command: 'flyway migrate' };
    const names = (replicate: boolean, dryRun: boolean) => externalPlan(tool, replicate, dryRun).map((p) => nameOf(p.op, ctx));
    expect(names(true, false)).toEqual(['effect-check', 'external command']);
    expect(names(false, false)).toEqual(['external command']);
    expect(names(true, true)).toEqual(['effect-check']);
    expect(names(false, true)).toEqual([]);
  });

  it('the runner times a step that words its own progress, prints nothing for it, and reports the detail it chooses', async () => {
    const lines: string[] = [];
    const progress = { start: (t: string) => lines.push(`start ${t}`), succeed: (t: string) => lines.push(t), fail: (t: string) => lines.push(t) };
    const own: Operation<null, void, void> = {
      name: 'own',
      title: () => 'Own',
      ownProgress: true,
      failureDetail: (e) => `because ${e.message}`,
      run: async () => {
        throw new BlueGreenError('broken');
      },
    };
    const outcome = await runOperations([step(own)], null, { progress, secrets: [], undoOnFailure: false });
    expect(lines).toEqual([]);
    expect(outcome.steps).toEqual([{ name: 'own', status: 'failed', ms: expect.any(Number), detail: 'because broken' }]);
  });
});
