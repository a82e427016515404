/**
 * Preflight: facts gathered from blue, green, the pointer and this machine go in; findings come out,
 * each `ok | warn | block` with the fix. Pure, so every rule is unit-tested without a database. The
 * rules live by concern in preflight-*.ts; this composes them in the order the operator reads them.
 */
import { blueReadiness } from './preflight-blue.js';
import type { Finding, PreflightFacts } from './preflight-facts.js';
import { greenAgainstBlue } from './preflight-green.js';
import { durability, greenReplication, peers, slotWalLimits } from './preflight-replication.js';
import { bothServers, cutoverFinding } from './preflight-servers.js';
import { clientTools, migrations, pauseBlockers, pointer } from './preflight-traffic.js';
import { privilegeFindings } from './privileges.js';

export type { BlueFacts, CollationVersion, Finding, FindingStatus, GreenFacts, PreflightFacts, ServerFacts } from './preflight-facts.js';
export { collationDrift } from './preflight-green.js';

export function preflightFindings(f: PreflightFacts): Finding[] {
  const plan = f.privileges?.plan;
  return [
    ...cutoverFinding(f),
    ...bothServers(f, !!plan),
    ...(plan ? privilegeFindings(plan) : []),
    ...greenAgainstBlue(f),
    ...blueReadiness(f),
    ...greenReplication(f),
    ...slotWalLimits(f),
    ...durability(f),
    clientTools(f),
    ...pointer(f),
    ...pauseBlockers(f),
    ...peers(f),
    ...migrations(f),
  ];
}

export function blocked(findings: ReadonlyArray<Finding>): boolean {
  return findings.some((f) => f.status === 'block');
}
