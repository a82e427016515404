/**
 * Preflight's first findings: whether a cutover is already under way, whether each side answers, and
 * whether its configured user may do what the tool does there (when the privilege probe did not say).
 */
import { versionFeatures } from './versions.js';
import type { Finding, PreflightFacts, ServerFacts } from './preflight-facts.js';

/** What each feature needs beyond superuser, per side: the list preflight names when the role lacks it. */
function missingPrivileges(side: 'blue' | 'green', facts: ServerFacts): string[] {
  const p = facts.privileges ?? {};
  const missing = [
    "SUPERUSER: event triggers (the freeze's DDL guard and the DDL log) and the write guard's bypass" +
      (side === 'blue' ? ', reading role passwords (pg_authid) to copy roles' : ''),
  ];
  if (!p.replication)
    missing.push(`REPLICATION: logical replication slots${side === 'blue' ? " (the clone's snapshot)" : ' (the rollback direction)'}`);
  if (!p.signalBackend) missing.push('pg_signal_backend: ending open transactions when writes freeze');
  if (!p.createSubscription && versionFeatures(facts.major ?? 0).createSubscriptionRole)
    missing.push('pg_create_subscription: subscribing to the other side');
  if (side === 'green' && !p.createdb) missing.push("CREATEDB: creating green's database");
  if (side === 'green' && !p.createrole) missing.push('CREATEROLE: copying roles to green');
  return missing;
}

function server(side: 'blue' | 'green', facts: ServerFacts, probed = false): Finding[] {
  if (facts.error)
    return [
      {
        check: `${side}-reachable`,
        status: 'block',
        message: `${side}: ${facts.error}`,
        fix: 'Fix the connection string or start the server.',
      },
    ];
  const out: Finding[] = [{ check: `${side}-reachable`, status: 'ok', message: `${side}: PostgreSQL ${facts.version}` }];
  // With the probe's plan, each capability is its own finding (strategy, cost or block): no blanket verdict.
  if (facts.superuser === false && !probed) {
    out.push({
      check: `${side}-privileges`,
      status: 'block',
      message: `${side}: the configured user${facts.user ? ` "${facts.user}"` : ''} lacks: ${missingPrivileges(side, facts).join('; ')}`,
      fix:
        'Connect as a superuser (on a managed service, its admin role where it may create event triggers); ' +
        'the README lists what each command needs.',
    });
  }
  return out;
}

/** Each side's server findings, blue first. */
export function bothServers(f: PreflightFacts, probed: boolean): Finding[] {
  return [...server('blue', f.blue, probed), ...server('green', f.green, probed)];
}

/** A cutover under way: its own state (green filled, the pointer on green) is not a problem to fix. */
export function cutoverFinding(f: PreflightFacts): Finding[] {
  // The privilege probe could not read (a passwords file with the wrong mode, say): said as itself, not
  // as the superuser checks it would otherwise fall back to.
  const probe: Finding[] = f.privileges?.error
    ? [
        {
          check: 'privileges',
          status: 'block',
          message: `what the configured roles may do could not be read: ${f.privileges.error}`,
          fix: 'Fix what it names, then run preflight again.',
        },
      ]
    : [];
  const c = f.cutoverUnderWay;
  if (!c) return probe;
  return [
    ...probe,
    {
      check: 'cutover',
      status: 'warn',
      message:
        `cutover ${c.id} is under way (phase ${c.phase}): these checks are for starting one, ` +
        "so green's data and the pointer on green read as problems here",
      fix: '`bluegreen status` is the view of this cutover; preflight matters again once it is finalized or aborted.',
    },
  ];
}
