/**
 * `bluegreen guard`: the rollback window guards itself. Every `guard.interval` it runs the configured
 * checks against the side that serves, keeps the round, and when the rollback condition holds it runs
 * the same rollback `bluegreen rollback` does, holding the controller lock only for that. It rolls back
 * only a lossless window (or with `allowDataLoss`, recorded); a person's command in flight wins; a
 * second guard finds the phase moved on and stands aside; a guard started again counts from the log.
 */
import { greenUnreachable } from './rollback-without-green.js';
import path from 'node:path';
import { z } from 'zod';
import type { GuardConfig } from '../core/config.js';
import { BlueGreenError, ExitCode, LockHeldError, TransitionNotAllowedError, UsageError, describeError } from '../core/errors.js';
import type { CutoverEvent } from '../core/events.js';
import {
  type CheckOutcome,
  countedRounds,
  type GuardDecision,
  guardEventOf,
  type GuardRound,
  planAction,
  rollbackCondition,
} from '../core/guard.js';
import { redact } from '../core/redact.js';
import { verdictLosses } from '../core/window-verdict.js';
import type { CutoverState } from '../core/state.js';
import { runCheck } from '../adapters/guard-checks.js';
import { appendGuardRound, readGuardRounds } from '../adapters/guard-log.js';
import { runNotify } from '../adapters/notify.js';
import { conn, type Deps } from './context.js';
import { _resume } from './resume.js';
import { replicationStatus, windowStatus } from './status.js';
import { _rollback } from './switchover.js';

export interface GuardOptions {
  /** Evaluate one round and exit with its verdict. */
  readonly once?: boolean;
  /** Say what it would do; roll nothing back and keep no round. */
  readonly dryRun?: boolean;
  /** Exit after rolling back instead of guarding on. */
  readonly exitAfterAction?: boolean;
  /** Stops the loop between rounds (SIGINT, SIGTERM): a round under way, a rollback above all, is finished. */
  readonly signal?: AbortSignal;
}

const guardOptions = z.strictObject({
  once: z.boolean().optional(),
  dryRun: z.boolean().optional(),
  exitAfterAction: z.boolean().optional(),
  signal: z.instanceof(AbortSignal).optional(),
});

/** The guard's ports: the command's, plus where its events go. */
export interface GuardDeps extends Deps {
  readonly notify: (event: CutoverEvent) => Promise<void>;
}

/** What a round ended with; `idle` is outside the window (nothing is kept). */
export type GuardVerdict = GuardDecision | 'idle';

export interface GuardResult {
  readonly ok: boolean;
  readonly verdict: GuardVerdict;
  readonly rounds: number;
  readonly last?: GuardRound;
  readonly detail?: string;
  readonly error?: { readonly code: string; readonly message: string; readonly exitCode?: number; readonly hint?: string };
}

/** --once's exit codes, documented in the README. */
const EXIT: Readonly<Record<GuardVerdict, number>> = {
  healthy: ExitCode.ok,
  failing: ExitCode.failed,
  'would-roll-back': ExitCode.failed,
  'rollback-failed': ExitCode.failed,
  idle: ExitCode.usage,
  refused: ExitCode.blocked,
  deferred: ExitCode.blocked,
  'rolled-back': ExitCode.guardRolledBack,
};

/** The built-in checks: they alert, never roll back by themselves. */
async function builtinChecks(
  deps: Deps,
  state: CutoverState,
): Promise<{ checks: CheckOutcome[]; lossless?: boolean; losses: string[]; refusal?: string; unknown?: string }> {
  const checks: CheckOutcome[] = [];
  if (state.reverse) {
    const start = performance.now();
    const r = await replicationStatus(deps, state.reverse, 'green');
    checks.push({
      name: 'replication',
      builtin: true,
      ok: r.running,
      ms: Math.round(performance.now() - start),
      detail: r.running ? undefined : (r.cause ?? r.error ?? 'not running'),
    });
  }
  const start = performance.now();
  const w = await windowStatus(deps, state);
  if (!w) return { checks, losses: [] };
  // The one verdict status shows: a lost slot (its reason) or an unknown reading is never lossless.
  const losses = w.error ? [w.error] : verdictLosses(w);
  checks.push({
    name: 'window',
    builtin: true,
    ok: w.verdict === 'lossless',
    ms: Math.round(performance.now() - start),
    // A lost slot's reason says itself what it means ("The rollback is no longer lossless: …").
    detail: w.verdict === 'lossless' ? undefined : w.reason ? losses.join('; ') : `a rollback would lose: ${losses.join('; ')}`,
  });
  return { checks, lossless: w.verdict === 'lossless', losses, refusal: w.reason, unknown: w.verdict === 'unknown' ? w.error : undefined };
}

/** Runs the rollback; what happened, in the guard's words. */
async function act(deps: Deps, acceptDataLoss: boolean): Promise<{ decision: GuardDecision; detail?: string }> {
  // Green not answering is not a verdict the guard may act on: a rollback without green gives up its
  // last writes and fences it for good, and a green restarting for a few seconds must not cost that.
  const greenDown = await greenUnreachable(deps).catch(() => undefined);
  if (greenDown)
    return {
      decision: 'refused',
      detail:
        `green is unreachable (${greenDown}): the guard never rolls back without green; \`bluegreen rollback\` says what that ` +
        `gives up, and a person decides`,
    };
  try {
    const result = await _rollback(deps, { acceptDataLoss });
    if (result.ok) return { decision: 'rolled-back', detail: `blue serves; write pause ${result.writePauseMs ?? '?'} ms` };
    const refused = result.error?.exitCode === ExitCode.blocked;
    return { decision: refused ? 'refused' : 'rollback-failed', detail: result.error?.message.split('\n')[0] };
  } catch (error) {
    // Someone else holds the lock (a person's command, another guard) or has moved the phase on: they win.
    if (error instanceof LockHeldError || error instanceof TransitionNotAllowedError)
      return { decision: 'deferred', detail: describeError(error) };
    if (error instanceof BlueGreenError && error.exitCode === ExitCode.blocked)
      return { decision: 'refused', detail: describeError(error) };
    return { decision: 'rollback-failed', detail: describeError(error).split('\n')[0] };
  }
}

/** A rollback this guard (or one before it on this host) started and was killed in: carry on with resume. */
async function carryOn(deps: GuardDeps, state: CutoverState): Promise<string | undefined> {
  const started = state.history.at(-1);
  if (state.phase !== 'rolling-back' || started?.event !== 'rollback-started' || started.by !== deps.who) return undefined;
  try {
    const r = await _resume(deps);
    return `a rollback of ours was interrupted: resume ${r.ok ? r.outcome : `failed: ${r.error?.message}`}`;
  } catch (error) {
    return `a rollback of ours was interrupted; resume: ${describeError(error)}`;
  }
}

/** Keeps the round, audits a change of decision, tells the hook. */
async function record(deps: GuardDeps, previous: GuardRound | undefined, round: GuardRound): Promise<void> {
  appendGuardRound(deps.config.stateDir, round);
  if (round.decision !== previous?.decision || round.decision === 'rolled-back' || round.decision === 'rollback-failed') {
    const failing = round.checks.filter((c) => !c.ok).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`);
    await deps.store.audit({
      at: round.at,
      by: deps.who,
      command: 'guard',
      cutover: round.cutover,
      outcome: round.decision,
      detail: redact([round.detail, ...failing].filter(Boolean).join('; '), deps.config.secrets),
    });
  }
  const type = guardEventOf(previous, round);
  if (type)
    await deps.notify({
      type,
      at: round.at,
      cutover: round.cutover,
      decision: round.decision,
      failures: round.failures,
      failing: round.checks.filter((c) => !c.ok).map((c) => c.name),
      detail: round.detail,
    });
}

/** One evaluation: checks, the condition, the decision, and the action when it says so. */
export async function guardRound(
  deps: GuardDeps,
  guard: GuardConfig,
  options: Pick<GuardOptions, 'dryRun'>,
  unkept: GuardRound[] = [],
): Promise<{ verdict: GuardVerdict; round?: GuardRound; detail?: string }> {
  const state = await deps.store.load();
  if (!state || state.phase !== 'switched-over') {
    const carried = state && !options.dryRun ? await carryOn(deps, state) : undefined;
    // A flip in flight (a person's rollback, another guard's) is not "nothing to guard": the guard stands aside.
    if (!carried && state && (state.phase === 'rolling-back' || state.phase === 'switching-over')) {
      const flip = state.phase === 'rolling-back' ? 'rollback' : 'switchover';
      return { verdict: 'deferred', detail: `a ${flip} is in progress (phase ${state.phase}): standing aside` };
    }
    return {
      verdict: 'idle',
      detail: carried ?? `nothing to guard: the phase is ${state?.phase ?? 'idle'} (the guard acts between a switchover and finalize)`,
    };
  }
  const ctx = {
    servingUrl: state.serving === 'blue' ? deps.config.blue : deps.config.green,
    cwd: path.dirname(deps.config.file),
    secrets: deps.config.secrets,
    applicationName: conn(deps, state.serving, 'guard').applicationName,
  };
  const at = deps.clock.now().toISOString();
  const [user, builtin] = await Promise.all([Promise.all(guard.checks.map((c) => runCheck(c, ctx))), builtinChecks(deps, state)]);
  const checks = [...user, ...builtin.checks];
  const kept = [...readGuardRounds(deps.config.stateDir, state.id), ...unkept];
  const counted = countedRounds(kept, state.id, state.serving, state.switchedOverAt, guard.intervalMs);
  const condition = rollbackCondition([...counted, { at, checks }], guard.rollbackAfter, Date.parse(at));
  const plan = planAction({
    condition,
    anyFailing: checks.some((c) => !c.ok),
    lossless: builtin.lossless,
    losses: builtin.losses,
    refusal: builtin.refusal,
    unknown: builtin.unknown,
    allowDataLoss: guard.allowDataLoss,
    dryRun: !!options.dryRun,
  });
  // Only a built-in check failing is an alert, not the application failing: said so, not "every check passes".
  const alerts = builtin.checks.filter((c) => !c.ok).map((c) => c.name);
  const onlyAlerts = !plan.act && plan.decision === 'failing' && user.every((c) => c.ok) && alerts.length > 0;
  const alerting = onlyAlerts ? `alert from ${alerts.join(', ')} (built-in: alerts only, never rolls back); your checks pass` : undefined;
  const outcome = plan.act ? await act(deps, plan.acceptDataLoss) : { decision: plan.decision, detail: alerting ?? plan.detail };
  const detail = plan.act
    ? `${plan.detail}: ${outcome.detail ?? outcome.decision}${plan.acceptDataLoss ? ' (loss accepted: guard.allowDataLoss)' : ''}`
    : outcome.detail;
  const round: GuardRound = {
    at,
    cutover: state.id,
    serving: state.serving,
    by: deps.who,
    checks,
    failures: condition.failures,
    condition: condition.holds,
    decision: outcome.decision,
    detail,
  };
  if (options.dryRun) unkept.push(round);
  else await record(deps, kept.at(-1), round);
  return { verdict: round.decision, round, detail };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** The loop: a round every interval (start to start) until stopped, or one with --once. */
export async function _guard(deps: GuardDeps, options: GuardOptions = {}): Promise<GuardResult> {
  const guard = deps.config.guard;
  if (!guard)
    throw new UsageError('no "guard" in the config', {
      hint: 'Add "guard": { "interval", "checks", "rollbackAfter" } (see "Guarding the window" in the README).',
    });
  const own: GuardDeps = deps.who.startsWith('guard ') ? deps : { ...deps, who: `guard ${deps.who}` };
  const unkept: GuardRound[] = [];
  let rounds = 0;
  let last: Awaited<ReturnType<typeof guardRound>> = { verdict: 'idle' };
  while (!options.signal?.aborted) {
    const started = performance.now();
    last = await guardRound(own, guard, options, unkept);
    rounds++;
    if (last.round)
      own.progress.info(
        `guard: ${last.round.checks.map((c) => `${c.name} ${c.ok ? 'ok' : 'FAIL'}`).join(', ')}: ` +
          `${last.verdict}${last.detail ? ` (${last.detail})` : ''}`,
      );
    // --dry-run says what one round would do: it never loops (it keeps no round to count from anyway).
    if (options.once || options.dryRun || (options.exitAfterAction && last.verdict === 'rolled-back')) break;
    await sleep(Math.max(0, guard.intervalMs - (performance.now() - started)), options.signal);
  }
  const code = EXIT[last.verdict];
  const base = { verdict: last.verdict, rounds, last: last.round, detail: last.detail };
  // Only --once and --exit-after-action end on a verdict; a guard stopped by a signal ends well.
  if (!options.once && !options.dryRun && !(options.exitAfterAction && last.verdict === 'rolled-back')) return { ok: true, ...base };
  return code === ExitCode.ok
    ? { ok: true, ...base }
    : {
        ok: false,
        ...base,
        error: { code: `guard_${last.verdict}`, exitCode: code, message: `guard: ${last.verdict}${last.detail ? `: ${last.detail}` : ''}` },
      };
}

/** The public entry: validates the options, adds the notify port to the command's deps. */
export function guard(deps: Deps, raw: unknown = {}): Promise<GuardResult> {
  const parsed = guardOptions.safeParse(raw);
  if (!parsed.success) throw new UsageError(`guard: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const notify = deps.config.notify;
  const send = notify
    ? (event: CutoverEvent) =>
        runNotify(
          { ...notify, cwd: path.dirname(deps.config.file), secrets: deps.config.secrets, warn: (t) => deps.progress.info(t) },
          event,
        )
    : async () => undefined;
  return _guard({ ...deps, notify: send }, parsed.data);
}
