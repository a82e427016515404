/**
 * Sessions that would hold a PgBouncer PAUSE: in transaction pooling PAUSE waits for every open
 * transaction to end while every other client's queries wait behind it, so one session idle in a
 * transaction would stall the whole application. They are found before the pause and dealt with as
 * the operator chose: waited for unpaused (then refused, naming them), their queries cancelled, or
 * their sessions ended. Pure: the reading and the acting are the adapter's.
 */

export type BlockerAction = 'wait' | 'cancel' | 'terminate';

export interface Blocker {
  readonly pid: number;
  readonly user: string;
  readonly application: string;
  /** The client's address, or "local" for a Unix socket. */
  readonly client: string;
  /** pg_stat_activity's state: `idle in transaction`, `active`, ... */
  readonly state: string;
  /** How long its transaction has been open, in ms (0 when it has none). */
  readonly transactionMs: number;
  /** When its current (or last) query started, ISO 8601. */
  readonly queryStart: string | null;
}

export interface BlockerPolicy {
  readonly action: BlockerAction;
  /** How long to wait for them, unpaused, before refusing (wait), or for a cancel or end to take effect. */
  readonly waitMs: number;
  /** A transaction or query younger than this is not a blocker: it ends within PAUSE's own budget. */
  readonly minAgeMs: number;
}

/** One line an operator reads for a blocker. */
export function describeBlocker(b: Blocker): string {
  const app = b.application ? ` "${b.application}"` : '';
  const age = `${(b.transactionMs / 1000).toFixed(1)} s`;
  return (
    `pid ${b.pid} ${b.user}${app} from ${b.client}: ${b.state}, transaction ` +
    `open ${age}${b.queryStart ? `, query started ${b.queryStart}` : ''}`
  );
}

/**
 * What to do with the blockers found now: the pids to cancel or end. A cancel cannot end a session
 * idle in a transaction (no query runs): those are left to the wait, and refused if they stay.
 */
export function actOn(
  blockers: ReadonlyArray<Blocker>,
  policy: BlockerPolicy,
): { readonly cancel: ReadonlyArray<Blocker>; readonly terminate: ReadonlyArray<Blocker> } {
  if (policy.action === 'terminate') return { cancel: [], terminate: blockers };
  if (policy.action === 'cancel') return { cancel: blockers.filter((b) => b.state === 'active'), terminate: [] };
  return { cancel: [], terminate: [] };
}

/**
 * Pool modes a flip cannot pause: in session pooling PAUSE waits for every client to disconnect
 * while the connected ones keep writing to the side we leave; statement pooling is not supported.
 * One refusal per instance, with the way out.
 */
export function poolModeRefusals(
  modes: ReadonlyArray<{ readonly instance: string; readonly mode: string; readonly clients: number }>,
  database: string,
): Array<{ readonly message: string; readonly fix: string }> {
  return modes.flatMap((m) => {
    if (m.mode === 'transaction') return [];
    if (m.mode === 'session') {
      return [
        {
          message:
            `${m.instance} pools "${database}" in session mode: PAUSE waits for every connected client (${m.clients} now) to ` +
            `disconnect, while they keep writing to the side traffic leaves; a flip cannot hold writes there`,
          fix:
            `Set pool_mode=transaction on the "${database}" entry of [databases] (or PgBouncer's pool_mode) and RELOAD, if the ` +
            `application keeps no session state between transactions (README, "Pool modes"); or use a file or command pointer and let ` +
            `the application reconnect.`,
        },
      ];
    }
    return [
      {
        message:
          `${m.instance} pools "${database}" in ${m.mode} mode, which pg-bluegreen does not support (a flip needs transactions ` +
          `held whole)`,
        fix: `Set pool_mode=transaction on the "${database}" entry of [databases] and RELOAD.`,
      },
    ];
  });
}
