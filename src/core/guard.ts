/**
 * The guard's judgement, pure: when the configured checks' history makes the rollback condition
 * hold (consecutive failures of one check, or a share of failed checks within a period), what the
 * guard does about it given the window's verdict, and what it tells people. The adapters run the
 * checks and keep the rounds; the command acts.
 */

/** `rollbackAfter`: consecutive failures of any one check, or a share of failed checks within a period. */
export type RollbackRule = { readonly failures: number } | { readonly ratio: number; readonly withinMs: number };

/** One check's outcome in one round. Built-in checks only alert: they never count toward the rule. */
export interface CheckOutcome {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly detail?: string;
  readonly builtin?: boolean;
}

/** What the guard did with a round. */
export type GuardDecision =
  | 'healthy' // every check passes
  | 'failing' // a check fails, the condition does not hold yet
  | 'would-roll-back' // the condition holds; --dry-run
  | 'rolled-back' // the condition held and the guard rolled back
  | 'refused' // the condition holds but the rollback would lose data: notify only
  | 'deferred' // the condition holds but a person's command (or another guard) holds the lock, or the verdict is unknown
  | 'rollback-failed'; // the rollback was tried and undone: green still serves

/** One evaluation, as kept in the guard's log (status, the report and a restarted guard read it). */
export interface GuardRound {
  readonly at: string;
  readonly cutover: string;
  readonly serving: 'blue' | 'green';
  readonly by: string;
  readonly checks: ReadonlyArray<CheckOutcome>;
  /** Consecutive failures (failures rule) or failed checks in the period (ratio rule). */
  readonly failures: number;
  readonly condition: boolean;
  readonly decision: GuardDecision;
  readonly detail?: string;
}

export interface ConditionVerdict {
  readonly holds: boolean;
  readonly failures: number;
  /** In the operator's words: `api failed 3 times in a row (rollbackAfter: 3)`. */
  readonly description: string;
}

const userChecks = (round: Pick<GuardRound, 'checks'>) => round.checks.filter((c) => !c.builtin);

/** How many rounds in a row, ending with the last, `name` failed. */
export function consecutiveFailures(rounds: ReadonlyArray<Pick<GuardRound, 'checks'>>, name: string): number {
  let n = 0;
  for (let i = rounds.length - 1; i >= 0; i--) {
    const outcome = rounds[i].checks.find((c) => c.name === name);
    if (!outcome || outcome.ok) break;
    n++;
  }
  return n;
}

/**
 * Whether the rollback condition holds after `rounds` (oldest first, the latest last; only the rounds
 * that count: this cutover, the current serving side, since the guard's last action).
 */
export function rollbackCondition(
  rounds: ReadonlyArray<Pick<GuardRound, 'at' | 'checks'>>,
  rule: RollbackRule,
  nowMs: number,
): ConditionVerdict {
  const last = rounds.at(-1);
  if (!last) return { holds: false, failures: 0, description: 'no round evaluated yet' };
  if ('failures' in rule) {
    const counts = userChecks(last).map((c) => ({ name: c.name, n: consecutiveFailures(rounds, c.name) }));
    const worst = counts.reduce((a, b) => (b.n > a.n ? b : a), { name: '', n: 0 });
    const holds = worst.n >= rule.failures;
    const description =
      worst.n === 0
        ? `every check passes (rollbackAfter: ${rule.failures} failures in a row)`
        : `${worst.name} failed ${worst.n} time${worst.n > 1 ? 's' : ''} in a row (rollbackAfter: ${rule.failures})`;
    return { holds, failures: worst.n, description };
  }
  const since = nowMs - rule.withinMs;
  const results = rounds.filter((r) => Date.parse(r.at) >= since).flatMap(userChecks);
  const failed = results.filter((c) => !c.ok).length;
  const share = results.length ? failed / results.length : 0;
  const holds = failed > 0 && share >= rule.ratio;
  const period = `${Math.round(rule.withinMs / 1000)} s`;
  return {
    holds,
    failures: failed,
    description:
      `${failed} of ${results.length} check${results.length === 1 ? '' : 's'} failed in the last ${period} ` +
      `(${Math.round(share * 100)}%; rollbackAfter: ${Math.round(rule.ratio * 100)}% within ${period})`,
  };
}

/**
 * The rounds the condition is judged on: this cutover, the side serving now, after the last action the
 * guard took; and at most one per interval (rounds at least 0.8 × interval apart, counted back from the
 * latest), so two guards or a `--once` beside a running guard do not make "3 in a row" come early.
 */
export function countedRounds(
  rounds: ReadonlyArray<GuardRound>,
  cutover: string,
  serving: 'blue' | 'green',
  servingSince?: string,
  intervalMs = 0,
): GuardRound[] {
  const mine = rounds.filter((r) => r.cutover === cutover && r.serving === serving && (!servingSince || r.at >= servingSince));
  const lastAction = mine.map((r) => r.decision).lastIndexOf('rollback-failed');
  const since = mine.slice(lastAction + 1);
  const spaced: GuardRound[] = [];
  for (let i = since.length - 1; i >= 0; i--) {
    const kept = spaced.at(-1);
    if (!kept || Date.parse(kept.at) - Date.parse(since[i].at) >= 0.8 * intervalMs) spaced.push(since[i]);
  }
  return spaced.reverse();
}

export type GuardPlan =
  | { readonly act: false; readonly decision: 'healthy' | 'failing' | 'would-roll-back' | 'refused' | 'deferred'; readonly detail?: string }
  | { readonly act: true; readonly acceptDataLoss: boolean; readonly detail?: string };

/**
 * What to do once the round is judged. Safe by construction: the guard rolls back only when the window
 * is lossless, or when the config says `allowDataLoss` (and then the loss is accepted on the record).
 * `lossless` is undefined when nothing says (freeze mode): the flip's own refusal is then the last word.
 * `refusal` (a lost slot: the rollback is refused whatever is accepted) refuses even with `allowDataLoss`.
 */
export function planAction(input: {
  readonly condition: ConditionVerdict;
  readonly anyFailing: boolean;
  readonly lossless: boolean | undefined;
  readonly losses: ReadonlyArray<string>;
  /** Why the rollback is refused whatever loss is accepted (the window's verdict's `reason`: a lost slot). */
  readonly refusal?: string;
  /** Why the window's verdict could not be read (a side not answering): never acted on as if a loss were known. */
  readonly unknown?: string;
  readonly allowDataLoss: boolean;
  readonly dryRun: boolean;
}): GuardPlan {
  const { condition } = input;
  if (!condition.holds) return { act: false, decision: input.anyFailing ? 'failing' : 'healthy', detail: condition.description };
  if (input.refusal) return { act: false, decision: 'refused', detail: `${condition.description}; ${input.refusal}` };
  if (input.unknown) {
    return {
      act: false,
      decision: 'deferred',
      detail: `${condition.description}; the rollback's verdict ${input.unknown}: left to a person`,
    };
  }
  const lossy = input.lossless === false;
  if (lossy && !input.allowDataLoss) {
    return {
      act: false,
      decision: 'refused',
      detail:
        `${condition.description}; a rollback now would lose: ${input.losses.join('; ') || 'what status lists'} (set ` +
        `guard.allowDataLoss to accept it)`,
    };
  }
  if (input.dryRun)
    return {
      act: false,
      decision: 'would-roll-back',
      detail: `${condition.description}; would roll back${lossy ? ', accepting the loss' : ''}`,
    };
  return { act: true, acceptDataLoss: lossy && input.allowDataLoss, detail: condition.description };
}

export type GuardEventType = 'guard.failing' | 'guard.rolled-back' | 'guard.refused';

/**
 * Whom to tell, once per change rather than once per round: a check starting to fail (or a different
 * set failing), the guard refusing or deferring for a new reason, a rollback.
 */
export function guardEventOf(previous: GuardRound | undefined, round: GuardRound): GuardEventType | undefined {
  if (round.decision === 'rolled-back') return 'guard.rolled-back';
  // Refused again (its detail counts the failures, so it changes every round): told once, not each round.
  if (round.decision === 'refused') return previous?.decision === 'refused' ? undefined : 'guard.refused';
  const failing = (r?: GuardRound) =>
    (r?.checks ?? [])
      .filter((c) => !c.ok)
      .map((c) => c.name)
      .sort()
      .join(',');
  const now = failing(round);
  if (now && now !== failing(previous)) return 'guard.failing';
  return undefined;
}

/** The rule as the config says it, for status and the README. */
export function describeRule(rule: RollbackRule): string {
  return 'failures' in rule
    ? `${rule.failures} failures in a row of any check`
    : `${Math.round(rule.ratio * 100)}% of checks failed within ${Math.round(rule.withinMs / 1000)} s`;
}
