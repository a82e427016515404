/** `bluegreen run`: preflight → clone → migrate → compare → switchover, stopping at the first failure. */
import { BlockedError } from '../core/errors.js';
import type { StepResult } from '../core/report.js';
import type { CompareResult } from '../core/compare-model.js';
import { _clone } from './clone.js';
import { _compare } from './compare.js';
import type { Deps } from './context.js';
import { _migrate } from './migrate.js';
import { _preflight } from './preflight.js';
import { _switchover } from './switchover.js';
import type { FlipResult } from './flip.js';

export interface RunResult {
  readonly ok: boolean;
  readonly stages: ReadonlyArray<{ readonly stage: string; readonly ok: boolean; readonly steps: ReadonlyArray<StepResult> }>;
  readonly compare?: CompareResult;
  readonly switchover?: FlipResult;
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string; readonly exitCode?: number };
}

export async function _run(deps: Deps, options: { dryRun?: boolean } = {}): Promise<RunResult> {
  const stages: Array<RunResult['stages'][number]> = [];
  const pre = await _preflight(deps);
  stages.push({ stage: 'preflight', ok: pre.ok, steps: [] });
  if (!pre.ok) {
    const blocks = pre.findings.filter((f) => f.status === 'block');
    const err = new BlockedError(blocks.map((b) => `${b.message}${b.fix ? ` (fix: ${b.fix})` : ''}`).join('\n'));
    return {
      ok: false,
      stages,
      error: { code: err.code, exitCode: err.exitCode, message: `preflight blocked:\n${err.message}`, hint: 'Nothing was changed.' },
    };
  }
  const clone = await _clone(deps, options);
  stages.push({ stage: 'clone', ok: clone.ok, steps: clone.steps });
  if (!clone.ok || options.dryRun) return { ok: clone.ok, stages, error: clone.error };
  const migrate = await _migrate(deps, options);
  stages.push({ stage: 'migrate', ok: migrate.ok, steps: migrate.steps });
  if (!migrate.ok) return { ok: false, stages, error: migrate.error };
  const compare = await _compare(deps);
  stages.push({ stage: 'compare', ok: compare.ok, steps: [] });
  if (!compare.ok) {
    return {
      ok: false,
      stages,
      compare,
      error: {
        code: 'compare_failed',
        message: 'compare found unexpected differences: not switching over',
        hint: 'Run `bluegreen compare` to see them. Blue still serves.',
      },
    };
  }
  const switchover = await _switchover(deps, options);
  stages.push({ stage: 'switchover', ok: switchover.ok, steps: switchover.steps });
  return { ok: switchover.ok, stages, compare, switchover, error: switchover.error };
}
