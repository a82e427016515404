/**
 * Without a superuser: what the configured role may do on each side (read by the privilege probe) goes
 * in; out comes, per capability the cutover needs, the strategy it will use, what that strategy costs,
 * or a block naming the grant or the service setting that gives it. Pure, so each managed service's set
 * of permissions is a unit test.
 */
import type { Side } from './state.js';
import { versionFeatures } from './versions.js';

/** The outcome of a statement tried inside a transaction that was rolled back. */
export interface Trial {
  readonly ok: boolean;
  /** SQLSTATE and PostgreSQL's message when it failed (`42501 permission denied …`). */
  readonly error?: string;
}

/** What the probe read on one side. */
export interface PrivilegeFacts {
  readonly major: number;
  readonly user: string;
  readonly superuser: boolean;
  readonly createrole: boolean;
  readonly createdb: boolean;
  /** REPLICATION, or a service role that gives it (RDS's rds_replication). */
  readonly replication: boolean;
  /** Roles the user is a member of, among those that matter here (pg_signal_backend, rds_superuser, …). */
  readonly memberships: ReadonlyArray<string>;
  /** Application tables (schema.table) the user neither owns nor is a member of the owner of. */
  readonly tablesNotOwned: ReadonlyArray<string>;
  /** CREATE on the database (a publication, the bluegreen schema). */
  readonly createOnDatabase: boolean;
  readonly trials: {
    readonly eventTrigger: Trial;
    readonly subscription: Trial;
    readonly sessionReplicationRole: Trial;
    readonly readAuthid: Trial;
  };
}

export type Capability =
  | 'replication-slot'
  | 'publication'
  | 'subscription'
  | 'end-sessions'
  | 'write-guard'
  | 'ddl-guard'
  | 'ddl-log'
  | 'replica-role'
  | 'roles'
  | 'create-database';

export interface CapabilityPlan {
  readonly side: Side;
  readonly capability: Capability;
  /** ok: as with a superuser; cost: a strategy that works with a stated limit; block: nothing replaces it. */
  readonly status: 'ok' | 'cost' | 'block';
  readonly strategy: string;
  /** What the strategy gives up (cost), or what is missing (block). */
  readonly detail?: string;
  /** The grant or the service setting that gives the capability. */
  readonly fix?: string;
}

export interface PrivilegePlanInputs {
  readonly mode: 'freeze' | 'replicate';
  readonly blue: PrivilegeFacts;
  readonly green: PrivilegeFacts;
  readonly greenDatabaseExists: boolean;
  /** Blue's roles that can log in (pg_roles: readable by anyone). */
  readonly blueLoginRoles: ReadonlyArray<string>;
  /** Roles green has already, with whether each can log in. */
  readonly greenRoles: Readonly<Record<string, { readonly canLogin: boolean }>>;
  /** Roles the operator gave a password for (names only: the values never reach the plan). */
  readonly passwordsGiven: ReadonlyArray<string>;
  /** roles.requireOnGreen: every role must exist on green already (with its password); clone copies none. */
  readonly requireOnGreen?: boolean;
  /** Every role blue has (login or not): what green must have when roles are required there. */
  readonly blueRoles?: ReadonlyArray<string>;
}

export interface PrivilegePlan {
  readonly capabilities: ReadonlyArray<CapabilityPlan>;
  /** Whether a rollback after the switchover can keep green's writes (reverse replication possible). */
  readonly rollbackLossless: boolean;
  /** Why not, in an operator's words, when it cannot. */
  readonly rollbackLoss?: string;
  /** Login roles clone would create on green without a password: the application could not log in as them. */
  readonly rolesWithoutPassword: ReadonlyArray<string>;
  /** How clone copies roles: passwords from blue's pg_authid or from the operator; attributes only a superuser may set kept or left out. */
  readonly roleCopy: {
    readonly passwords: 'from-blue' | 'from-operator';
    readonly superuserAttributes: boolean;
    readonly requiredOnGreen?: boolean;
  };
}

const member = (f: PrivilegeFacts, role: string) => f.superuser || f.memberships.includes(role);

function replicationSlot(side: Side, f: PrivilegeFacts, needed: 'clone' | 'rollback'): CapabilityPlan {
  if (f.replication || f.superuser)
    return { side, capability: 'replication-slot', status: 'ok', strategy: 'logical replication slot as the configured role' };
  return {
    side,
    capability: 'replication-slot',
    status: needed === 'clone' ? 'block' : 'cost',
    strategy: 'none',
    detail:
      needed === 'clone'
        ? "no logical replication slot: the clone's consistent snapshot and the forward replication need one"
        : 'no reverse replication slot: green cannot replicate to blue after the switchover',
    fix:
      `ALTER ROLE ${f.user} REPLICATION (Amazon RDS: GRANT rds_replication TO ${f.user}; Cloud SQL: ALTER USER ${f.user} WITH ` +
      `REPLICATION)`,
  };
}

/**
 * A publication FOR TABLE: CREATE on the database and ownership of every table published. Blue's for the
 * clone; green's for the reverse direction, made at the switchover in green's database: when clone is to
 * create that database the role owns it (CREATE follows), and its tables keep blue's owners, which blue's
 * own check already asks the role to act as.
 */
function publication(side: Side, f: PrivilegeFacts, needed: 'clone' | 'rollback', ownsNewDatabase = false): CapabilityPlan {
  const createOk = f.createOnDatabase || f.superuser || ownsNewDatabase;
  const notOwned = f.superuser ? [] : f.tablesNotOwned;
  const missing = [...(createOk ? [] : ['CREATE on the database']), ...notOwned.map((t) => `ownership of ${t}`)];
  if (missing.length === 0) {
    const inferred = ownsNewDatabase && !f.createOnDatabase ? ' (CREATE as owner of the database clone creates)' : '';
    const strategy = f.superuser ? 'FOR TABLE list' : `FOR TABLE list, as owner of every table${inferred}`;
    return { side, capability: 'publication', status: 'ok', strategy: needed === 'rollback' ? `reverse direction: ${strategy}` : strategy };
  }
  const shown = missing.length > 5 ? [...missing.slice(0, 5), `${missing.length - 5} more`] : missing;
  return {
    side,
    capability: 'publication',
    status: needed === 'clone' ? 'block' : 'cost',
    strategy: 'none',
    detail: `${needed === 'rollback' ? "the reverse direction's " : ''}publication FOR TABLE needs ${shown.join(', ')}`,
    fix: [
      ...(notOwned.length ? [`ALTER TABLE … OWNER TO ${f.user} (or GRANT the owning role TO ${f.user})`] : []),
      ...(createOk ? [] : [`GRANT CREATE ON DATABASE … TO ${f.user}`]),
    ].join('; '),
  };
}

function subscription(side: Side, f: PrivilegeFacts, needed: 'clone' | 'rollback', ownsNewDatabase = false): CapabilityPlan {
  const roleExists = versionFeatures(f.major).createSubscriptionRole;
  // Before the clone green's database does not exist, so the probe ran in another one where the role may
  // lack CREATE; in the database clone creates the role is owner, and 16+ asks pg_create_subscription and CREATE.
  if (!f.trials.subscription.ok && ownsNewDatabase && !f.createOnDatabase && roleExists && member(f, 'pg_create_subscription')) {
    return {
      side,
      capability: 'subscription',
      status: 'ok',
      strategy:
        'CREATE SUBSCRIPTION through pg_create_subscription, as owner of the database clone creates (inferred: the probe ran in another ' +
        'database)',
    };
  }
  if (f.trials.subscription.ok)
    return {
      side,
      capability: 'subscription',
      status: 'ok',
      strategy: f.superuser ? 'CREATE SUBSCRIPTION as superuser' : 'CREATE SUBSCRIPTION as the configured role',
    };
  const fix = roleExists
    ? `GRANT pg_create_subscription TO ${f.user}; GRANT CREATE ON DATABASE … TO ${f.user}`
    : `PostgreSQL ${f.major} lets only superusers subscribe; Amazon RDS, Cloud SQL, Azure and Neon allow their admin role; elsewhere ` +
      `run this side on 16+ and GRANT pg_create_subscription`;
  return {
    side,
    capability: 'subscription',
    status: needed === 'clone' ? 'block' : 'cost',
    strategy: 'none',
    detail:
      `${needed === 'clone' ? 'green cannot subscribe to blue' : 'blue cannot host the reverse subscription'} ` +
      `(${f.trials.subscription.error ?? 'refused'})`,
    fix,
  };
}

function endSessions(side: Side, f: PrivilegeFacts): CapabilityPlan {
  if (member(f, 'pg_signal_backend'))
    return {
      side,
      capability: 'end-sessions',
      status: 'ok',
      strategy:
        'pg_terminate_backend through pg_signal_backend' + (f.superuser ? ' (superuser)' : "; superusers' sessions cannot be ended"),
    };
  return {
    side,
    capability: 'end-sessions',
    status: 'block',
    strategy: 'none',
    detail:
      'transactions open when writes freeze cannot be ended: one opened before the freeze could still commit on the side traffic leaves',
    fix: `GRANT pg_signal_backend TO ${f.user}`,
  };
}

/** The write freeze: a trigger the table owner installs; who may write through it depends on superuser. */
function writeGuard(side: Side, f: PrivilegeFacts): CapabilityPlan {
  if (f.superuser)
    return { side, capability: 'write-guard', status: 'ok', strategy: 'guard trigger on every table; only superusers write through it' };
  if (f.tablesNotOwned.length) {
    return {
      side,
      capability: 'write-guard',
      status: 'block',
      strategy: 'none',
      detail: `the guard trigger needs ownership of ${f.tablesNotOwned.slice(0, 5).join(', ')}${f.tablesNotOwned.length > 5 ? ' …' : ''}`,
      fix: `ALTER TABLE … OWNER TO ${f.user}`,
    };
  }
  return {
    side,
    capability: 'write-guard',
    status: 'cost',
    strategy: `guard trigger installed as table owner; sessions of ${f.user} write through it`,
    detail: `the freeze holds against every other role; an application that logs in as ${f.user} itself is not held`,
  };
}

function ddlGuard(side: Side, f: PrivilegeFacts): CapabilityPlan {
  if (f.trials.eventTrigger.ok) return { side, capability: 'ddl-guard', status: 'ok', strategy: 'event trigger refusing DDL while frozen' };
  return {
    side,
    capability: 'ddl-guard',
    status: 'cost',
    strategy: "no DDL guard; the window verdict's catalog snapshots (next flip, status) see such DDL afterwards",
    detail:
      'DDL during the freeze is not refused, and a table created meanwhile has no guard trigger until the next install: writes to it ' +
      'are not held',
    fix: 'a role allowed CREATE EVENT TRIGGER (RDS master user, Cloud SQL cloudsqlsuperuser, Neon neon_superuser, Supabase postgres)',
  };
}

function ddlLog(side: Side, f: PrivilegeFacts): CapabilityPlan {
  if (f.trials.eventTrigger.ok)
    return { side, capability: 'ddl-log', status: 'ok', strategy: 'event trigger recording every schema change' };
  return {
    side,
    capability: 'ddl-log',
    status: 'cost',
    strategy: 'catalog snapshots (at each flip, sync-schema and status)',
    detail:
      'the window verdict compares schemas, which is what it judges anyway; lost: who made a change and when, and a change undone ' +
      'between two snapshots (a column added then dropped) is not seen',
    fix: 'a role allowed CREATE EVENT TRIGGER',
  };
}

function replicaRole(side: Side, f: PrivilegeFacts): CapabilityPlan {
  if (f.trials.sessionReplicationRole.ok)
    return { side, capability: 'replica-role', status: 'ok', strategy: 'SET session_replication_role = replica while copying rows' };
  return {
    side,
    capability: 'replica-role',
    status: 'cost',
    strategy: 'none',
    detail:
      "sync-schema copies values into the standby without it only where the standby's table has no trigger of its own (and, to empty " +
      'one, no foreign key pointing at it), else it refuses naming them; partition changes are not carried',
    fix: `Amazon RDS and Supabase let the admin set it; Cloud SQL and Neon do not (${f.trials.sessionReplicationRole.error ?? 'refused'})`,
  };
}

/** roles.requireOnGreen: nothing is copied; each of blue's roles must be on green, each login role able to log in. */
function rolesRequiredOnGreen(inputs: PrivilegePlanInputs): CapabilityPlan {
  const all = inputs.blueRoles ?? inputs.blueLoginRoles;
  const missing = all.filter((r) => !inputs.greenRoles[r]);
  const lockedOut = inputs.blueLoginRoles.filter((r) => inputs.greenRoles[r] && !inputs.greenRoles[r].canLogin);
  const strategy = 'required on green (roles.requireOnGreen): none copied';
  if (!missing.length && !lockedOut.length) {
    const detail = 'whether each login role has its password on green is not readable without a superuser: the operator vouches for it';
    return { side: 'green', capability: 'roles', status: 'ok', strategy, detail };
  }
  const detail = [
    ...(missing.length ? [`missing on green: ${missing.join(', ')}`] : []),
    ...(lockedOut.length ? [`on green but NOLOGIN: ${lockedOut.join(', ')}`] : []),
  ].join('; ');
  const fix =
    'create them on green with their passwords (CREATE ROLE … LOGIN PASSWORD …), or leave out roles.requireOnGreen to have clone copy them';
  return { side: 'green', capability: 'roles', status: 'block', strategy, detail, fix };
}

function roles(
  f: PrivilegeFacts,
  g: PrivilegeFacts,
  inputs: PrivilegePlanInputs,
  withoutPassword: ReadonlyArray<string>,
): CapabilityPlan[] {
  if (inputs.requireOnGreen) return [rolesRequiredOnGreen(inputs)];
  const out: CapabilityPlan[] = [];
  const toCreate = inputs.blueLoginRoles.filter((r) => !inputs.greenRoles[r]);
  if (toCreate.length && !g.createrole && !g.superuser) {
    out.push({
      side: 'green',
      capability: 'roles',
      status: 'block',
      strategy: 'none',
      detail: `roles ${toCreate.join(', ')} are missing on green and the role cannot create them`,
      fix: `ALTER ROLE ${g.user} CREATEROLE, or create them on green first`,
    });
  }
  if (f.trials.readAuthid.ok) {
    out.push({ side: 'blue', capability: 'roles', status: 'ok', strategy: 'pg_dumpall --roles-only, passwords included' });
  } else if (withoutPassword.length) {
    out.push({
      side: 'blue',
      capability: 'roles',
      status: 'block',
      strategy: 'pg_roles and pg_auth_members, without passwords',
      detail:
        `pg_authid is not readable, so passwords cannot be copied; login roles that would have none on ` +
        `green: ${withoutPassword.join(', ')}`,
      fix:
        'name a password for each (roles.passwordsFile, a JSON object of role → password, mode 0600; or roles.passwordsEnv, a ' +
        'prefix: <PREFIX><ROLE>, the role name exactly as PostgreSQL spells it, usually lower case), or create them on green with their ' +
        'passwords first',
    });
  } else {
    out.push({
      side: 'blue',
      capability: 'roles',
      status: 'cost',
      strategy: 'pg_roles and pg_auth_members, without passwords',
      detail:
        'passwords come from the operator or roles already on green; attributes a non-superuser may not give (SUPERUSER, BYPASSRLS, ' +
        'REPLICATION) are left out',
    });
  }
  return out;
}

/** Login roles clone would create on green with no password: neither given by the operator nor already there. */
export function rolesWithoutPassword(inputs: PrivilegePlanInputs): string[] {
  if (inputs.blue.trials.readAuthid.ok || inputs.requireOnGreen) return [];
  const given = new Set(inputs.passwordsGiven);
  return inputs.blueLoginRoles.filter((r) => !given.has(r) && !inputs.greenRoles[r]?.canLogin);
}

/** What the reverse direction (green's slot and publication, blue's subscription) needs; one missing makes the rollback lossy. */
const REVERSE: ReadonlyArray<`${Side} ${Capability}`> = ['green replication-slot', 'green publication', 'blue subscription'];

function rollbackVerdict(caps: ReadonlyArray<CapabilityPlan>): Pick<PrivilegePlan, 'rollbackLossless' | 'rollbackLoss'> {
  const reverse = caps.filter((c) => c.status !== 'ok' && REVERSE.includes(`${c.side} ${c.capability}`));
  const why = reverse.map((c) => c.detail).join('; ');
  const rollbackLoss = reverse.length
    ? `no reverse replication (${why}): a rollback after the switchover loses every write made on green`
    : undefined;
  return { rollbackLossless: !rollbackLoss, rollbackLoss };
}

/**
 * The plan again once green holds its tables: made before the clone, it could only predict green's
 * database and owners. The switchover probes green again and asks this before anything is paused, so a
 * reverse publication green cannot make is declared, not found at prepare-reverse.
 */
export function recheckReverse(plan: PrivilegePlan, green: PrivilegeFacts): PrivilegePlan {
  if (!plan.capabilities.some((c) => REVERSE.includes(`${c.side} ${c.capability}`))) return plan;
  const rechecked = [replicationSlot('green', green, 'rollback'), publication('green', green, 'rollback')];
  const caps = [
    ...plan.capabilities.filter((c) => !(c.side === 'green' && (c.capability === 'replication-slot' || c.capability === 'publication'))),
    ...rechecked,
  ];
  return { ...plan, capabilities: caps, ...rollbackVerdict(caps) };
}

/** The plan: one entry per side and capability, and what the rollback can promise. */
export function privilegePlan(inputs: PrivilegePlanInputs): PrivilegePlan {
  const { blue: b, green: g } = inputs;
  const withoutPassword = rolesWithoutPassword(inputs);
  const caps: CapabilityPlan[] = [];
  if (!inputs.greenDatabaseExists && !g.createdb && !g.superuser) {
    caps.push({
      side: 'green',
      capability: 'create-database',
      status: 'block',
      strategy: 'none',
      detail: "green's database does not exist and the role cannot create it",
      fix: `ALTER ROLE ${g.user} CREATEDB, or create the database owned by ${g.user}`,
    });
  }
  caps.push(...roles(b, g, inputs, withoutPassword));
  for (const [side, f] of [
    ['blue', b],
    ['green', g],
  ] as const)
    caps.push(endSessions(side, f), writeGuard(side, f), ddlGuard(side, f), ddlLog(side, f), replicaRole(side, f));
  if (inputs.mode === 'replicate') {
    caps.push(
      replicationSlot('blue', b, 'clone'),
      publication('blue', b, 'clone'),
      subscription('green', g, 'clone', !inputs.greenDatabaseExists && g.createdb),
    );
    const greenOwnsNewDatabase = !inputs.greenDatabaseExists && g.createdb;
    caps.push(
      replicationSlot('green', g, 'rollback'),
      publication('green', g, 'rollback', greenOwnsNewDatabase),
      subscription('blue', b, 'rollback'),
    );
  }
  return {
    capabilities: caps,
    ...rollbackVerdict(caps),
    rolesWithoutPassword: withoutPassword,
    roleCopy: {
      passwords: b.trials.readAuthid.ok ? 'from-blue' : 'from-operator',
      superuserAttributes: g.superuser,
      ...(inputs.requireOnGreen ? { requiredOnGreen: true } : {}),
    },
  };
}

/** Preflight's lines for the plan: ok stays ok, a cost is a warning, a block blocks. */
export function privilegeFindings(
  plan: PrivilegePlan,
): Array<{ check: string; status: 'ok' | 'warn' | 'block'; message: string; fix?: string }> {
  const out = plan.capabilities.map((c) => ({
    check: `${c.side}-${c.capability}`,
    status: c.status === 'cost' ? ('warn' as const) : c.status,
    message: `${c.side} ${c.capability}: ${c.strategy}${c.detail ? ` — ${c.detail}` : ''}`,
    ...(c.fix && c.status !== 'ok' ? { fix: c.fix } : {}),
  }));
  if (!plan.rollbackLossless) {
    out.push({
      check: 'rollback-lossless',
      status: 'warn',
      message: `the rollback will not be lossless: ${plan.rollbackLoss}`,
      fix: 'The switchover refuses without --accept-data-loss; grant the missing privilege above to keep a lossless rollback.',
    });
  }
  return out;
}
