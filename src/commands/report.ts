/**
 * `bluegreen report`: one self-contained HTML page (or --json) of a cutover, the current one or an
 * earlier one by id: what was run, by whom, each flip's pause against its steps, lag over time, the
 * last compare, the migrations and the rollback verdict. It reads; it changes nothing on the databases.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { buildReport, type ReportData, renderReportHtml } from '../core/cutover-report.js';
import { readHistoryDetails } from '../adapters/migration-history.js';
import { withClient } from '../adapters/pg.js';
import { readGuardRounds } from '../adapters/guard-log.js';
import { loadCutover, readAudit, readLagSamples } from '../adapters/state-store.js';
import { lastCompareResultFile } from './compare.js';
import { conn, type Deps } from './context.js';
import { _status, unknown } from './status.js';

export interface ReportOptions {
  readonly cutover?: string;
  readonly out?: string;
}

export async function _report(deps: Deps, options: ReportOptions = {}): Promise<{ ok: true; data: ReportData; file?: string }> {
  const { config } = deps;
  const current = await deps.store.load();
  const id = options.cutover ?? current?.id;
  if (!id)
    throw new UsageError('no cutover recorded in this state folder yet', {
      hint: "Run `bluegreen clone` first, or point --config at the cutover's config.",
    });
  const state = id === current?.id ? current : loadCutover(config.stateDir, id);
  if (!state)
    throw new UsageError(`no record of cutover ${id} in ${config.stateDir}`, {
      hint: 'The ids are in the audit log; a report is made from the state folder the cutover ran with.',
    });
  const compareFile = lastCompareResultFile(config.stateDir, id);
  // The live parts (migrations on green, the verdict) only for the current cutover, and only when green answers.
  const live = id === current?.id;
  // A part that cannot be read is said to be unknown on the page, never drawn as empty.
  let migrationsError: string | undefined;
  let verdictError: string | undefined;
  const migrations = live
    ? await withClient(config.green, readHistoryDetails, conn(deps, 'green', 'report')).catch((error: unknown) => {
        migrationsError = unknown(error);
        return [];
      })
    : [];
  const status = live
    ? await _status(deps).catch((error: unknown) => {
        verdictError = unknown(error);
        return undefined;
      })
    : undefined;
  if (status?.window?.verdict === 'unknown') verdictError = `unknown: the next ${status.window.next} ${status.window.error}`;
  const data = buildReport({
    state,
    audit: readAudit(config.stateDir, id),
    lag: readLagSamples(config.stateDir, id),
    compare: existsSync(compareFile) ? JSON.parse(readFileSync(compareFile, 'utf8')) : undefined,
    migrations,
    migrationsError,
    verdictError,
    verdict:
      status?.window && status.window.verdict !== 'unknown'
        ? { next: status.window.next, verdict: status.window.verdict, reason: status.window.reason, losses: status.window.losses }
        : undefined,
    generatedAt: deps.clock.now().toISOString(),
    guard: readGuardRounds(config.stateDir, id),
  });
  if (options.out) writeFileSync(options.out, renderReportHtml(data), { mode: 0o644 });
  return { ok: true, data, file: options.out };
}
