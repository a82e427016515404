/**
 * Preflight's findings on what sits around the databases: the client tools, the pointer and its pooler,
 * the sessions that would hold a switchover's pause, and the migrations waiting for green.
 */
import { describeBlocker, poolModeRefusals } from './blockers.js';
import type { Finding, PreflightFacts } from './preflight-facts.js';

export function clientTools(f: PreflightFacts): Finding {
  return f.tools.error
    ? {
        check: 'client-tools',
        status: 'block',
        message: f.tools.error,
        fix: 'Install a PostgreSQL client at least as new as blue, or set tools.binDir.',
      }
    : { check: 'client-tools', status: 'ok', message: `pg_dump: ${f.tools.pgDump}` };
}

/** The pointer must serve blue, its settings be sound, and its pool mode one a switchover can pause. */
export function pointer(f: PreflightFacts): Finding[] {
  const p = f.pointer;
  const out: Finding[] = [];
  if (p.error) {
    out.push({
      check: 'pointer',
      status: 'block',
      message: `pointer (${p.description}): ${p.error}`,
      fix: 'Fix the pointer section of the config.',
    });
  } else if (p.pointsAt !== 'blue') {
    out.push({
      check: 'pointer',
      status: 'block',
      message: `pointer (${p.description}) sends traffic to ${p.pointsAt}, not to blue`,
      fix: "The pointer must serve blue before a cutover starts: check the config's blue URL and the pointer entry.",
    });
  } else {
    out.push({ check: 'pointer', status: 'ok', message: `pointer (${p.description}) serves blue` });
  }
  for (const w of p.warnings ?? []) out.push({ check: 'pointer-settings', status: 'warn', message: w });
  for (const r of poolModeRefusals(p.poolModes ?? [], p.database ?? ''))
    out.push({ check: 'pool-mode', status: 'block', message: r.message, fix: r.fix });
  return out;
}

export function pauseBlockers(f: PreflightFacts): Finding[] {
  const blockers = f.pauseBlockers;
  if (blockers?.error) {
    return [{ check: 'pause-blockers', status: 'warn', message: `sessions that would hold the pause: unknown: ${blockers.error}` }];
  }
  const sessions = blockers?.sessions ?? [];
  if (!blockers || !sessions.length) return [];
  return [
    {
      check: 'pause-blockers',
      status: 'warn',
      message:
        `${sessions.length} session${sessions.length > 1 ? 's' : ''} on blue would hold a switchover's pause now ` +
        `(transaction or query older than ${blockers.minAgeMs} ms):\n${sessions.map((b) => `  ${describeBlocker(b)}`).join('\n')}`,
      fix:
        'At the switchover they are waited for, unpaused, then refused by name (switchover.blockers.action "wait"); ' +
        '"cancel" cancels their queries, "terminate" ends their sessions (or --blockers on the command).',
    },
  ];
}

export function migrations(f: PreflightFacts): Finding[] {
  const { error, pending } = f.migrations;
  if (error) return [{ check: 'migrations', status: 'block', message: error }];
  if (pending === undefined) return [];
  return [{ check: 'migrations', status: 'ok', message: `${pending} migration${pending === 1 ? '' : 's'} to apply on green` }];
}
