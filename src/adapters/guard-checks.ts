/**
 * The guard's checks, run against the side that serves: a command (passes on exit 0, run in the
 * config's folder with a timeout, its output redacted), a URL (passes on a 2xx answer within the
 * timeout), a SQL query (passes when its one value is true, in a read-only transaction).
 */
import type { GuardCheck } from '../core/config.js';
import type { CheckOutcome } from '../core/guard.js';
import { redact } from '../core/redact.js';
import { withClient, withTransaction } from './pg.js';
import { runShell } from './shell.js';

export interface CheckContext {
  /** The controller's connection to the side that serves. */
  readonly servingUrl: string;
  readonly cwd: string;
  readonly secrets: ReadonlyArray<string>;
  readonly applicationName: string;
}

const firstLine = (text: string, secrets: ReadonlyArray<string>) =>
  redact(text, secrets).trim().split('\n').filter(Boolean).slice(-1)[0]?.slice(0, 200);

async function commandCheck(check: { command: string; timeoutMs: number }, ctx: CheckContext): Promise<Omit<CheckOutcome, 'name' | 'ms'>> {
  const result = await runShell(check.command, { cwd: ctx.cwd, timeoutMs: check.timeoutMs });
  if (result.timedOut) return { ok: false, detail: `no answer within ${check.timeoutMs} ms` };
  if (result.exitCode === 0) return { ok: true };
  return {
    ok: false,
    detail: `exit ${result.exitCode ?? result.signal}${result.all ? `: ${firstLine(String(result.all), ctx.secrets)}` : ''}`,
  };
}

async function urlCheck(check: { url: string; timeoutMs: number }): Promise<Omit<CheckOutcome, 'name' | 'ms'>> {
  try {
    const response = await fetch(check.url, { signal: AbortSignal.timeout(check.timeoutMs), redirect: 'manual' });
    await response.body?.cancel();
    return response.status >= 200 && response.status < 300 ? { ok: true } : { ok: false, detail: `HTTP ${response.status}` };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    return { ok: false, detail: e.name === 'TimeoutError' ? `no answer within ${check.timeoutMs} ms` : (e.cause?.code ?? e.message) };
  }
}

async function sqlCheck(check: { sql: string; timeoutMs: number }, ctx: CheckContext): Promise<Omit<CheckOutcome, 'name' | 'ms'>> {
  try {
    return await withClient(
      ctx.servingUrl,
      (client) =>
        withTransaction(client, async () => {
          // A check reads: it must never write to the side that serves, nor hold it for long.
          await client.query('SET TRANSACTION READ ONLY');
          await client.query(`SELECT set_config('statement_timeout', $1, true)`, [String(check.timeoutMs)]);
          const { rows, fields } = await client.query(check.sql);
          const value = rows[0] && fields[0] ? rows[0][fields[0].name] : undefined;
          return value === true
            ? { ok: true }
            : { ok: false, detail: `returned ${rows.length ? JSON.stringify(value) : 'no row'}, not true` };
        }),
      { label: 'guard', secrets: ctx.secrets, applicationName: ctx.applicationName, connectTimeoutMs: check.timeoutMs },
    );
  } catch (error) {
    return { ok: false, detail: firstLine((error as Error).message, ctx.secrets) };
  }
}

/** Runs one check; never throws: a check that cannot run has failed. */
export async function runCheck(check: GuardCheck, ctx: CheckContext): Promise<CheckOutcome> {
  const start = performance.now();
  const outcome = 'command' in check ? await commandCheck(check, ctx) : 'url' in check ? await urlCheck(check) : await sqlCheck(check, ctx);
  return { name: check.name, ms: Math.round(performance.now() - start), ...outcome };
}
