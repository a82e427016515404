import { describe, expect, it } from 'vitest';
import { type Capability, type PrivilegeFacts, type PrivilegePlanInputs, privilegeFindings, privilegePlan, recheckReverse, type Trial } from '../../src/core/privileges.js';
import { forNonSuperuser, parseRolesScript } from '../../src/core/roles.js';

const allowed: Trial = { ok: true };
const denied = (what: string): Trial => ({ ok: false, error: `42501 permission denied ${what}` });

interface Grants {
  readonly major: number;
  readonly eventTrigger: boolean;
  readonly subscription: boolean;
  readonly replicaRole: boolean;
  readonly authid: boolean;
  readonly replication?: boolean;
  readonly memberships?: ReadonlyArray<string>;
}

/** A service's admin role as its documentation (and the issue) describes it; trials stand for what the server answers. */
function admin(user: string, g: Grants): PrivilegeFacts {
  return {
    major: g.major,
    user,
    superuser: false,
    createrole: true,
    createdb: true,
    replication: g.replication ?? true,
    memberships: g.memberships ?? ['pg_signal_backend', 'pg_monitor'],
    tablesNotOwned: [],
    createOnDatabase: true,
    trials: {
      eventTrigger: g.eventTrigger ? allowed : denied('to create event trigger'),
      subscription: g.subscription ? allowed : denied('to create subscription'),
      sessionReplicationRole: g.replicaRole ? allowed : denied('to set parameter "session_replication_role"'),
      readAuthid: g.authid ? allowed : denied('for table pg_authid'),
    },
  };
}

const superuser: PrivilegeFacts = { ...admin('postgres', { major: 15, eventTrigger: true, subscription: true, replicaRole: true, authid: true }), superuser: true };

const SERVICES: Record<string, Grants> = {
  rds: { major: 15, eventTrigger: true, subscription: true, replicaRole: true, authid: false, memberships: ['pg_signal_backend', 'pg_monitor', 'rds_superuser', 'rds_replication'] },
  cloudsql: { major: 15, eventTrigger: true, subscription: true, replicaRole: false, authid: false, memberships: ['pg_signal_backend', 'pg_monitor', 'cloudsqlsuperuser'] },
  azure: { major: 15, eventTrigger: false, subscription: true, replicaRole: false, authid: false, memberships: ['pg_signal_backend', 'pg_monitor', 'azure_pg_admin'] },
  neon: { major: 16, eventTrigger: true, subscription: true, replicaRole: false, authid: false, memberships: ['pg_signal_backend', 'pg_monitor', 'neon_superuser', 'pg_create_subscription'] },
  supabase: { major: 15, eventTrigger: true, subscription: false, replicaRole: true, authid: false },
  'vanilla 15 managed-like': { major: 15, eventTrigger: false, subscription: false, replicaRole: false, authid: false },
  'vanilla 17 managed-like': { major: 17, eventTrigger: false, subscription: true, replicaRole: false, authid: false, memberships: ['pg_signal_backend', 'pg_monitor', 'pg_create_subscription'] },
};

function inputs(blue: PrivilegeFacts, green: PrivilegeFacts, more: Partial<PrivilegePlanInputs> = {}): PrivilegePlanInputs {
  return { mode: 'replicate', blue, green, greenDatabaseExists: false, blueLoginRoles: ['app', blue.user], greenRoles: { [green.user]: { canLogin: true } }, passwordsGiven: ['app'], ...more };
}

const status = (plan: ReturnType<typeof privilegePlan>, side: 'blue' | 'green', capability: Capability) => plan.capabilities.find((c) => c.side === side && c.capability === capability)?.status;

describe('the privilege plan', () => {
  it('a superuser on both sides: every capability as before, the rollback lossless', () => {
    const plan = privilegePlan(inputs(superuser, superuser, { passwordsGiven: [] }));
    expect(plan.capabilities.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(plan.rollbackLossless).toBe(true);
    expect(plan.rolesWithoutPassword).toEqual([]);
  });

  it('each service, blue and green on the same service: what it gives and what it costs', () => {
    const verdicts = Object.fromEntries(
      Object.entries(SERVICES).map(([name, g]) => {
        const side = admin('admin', g);
        const plan = privilegePlan(inputs(side, side));
        const blocks = plan.capabilities.filter((c) => c.status === 'block').map((c) => `${c.side} ${c.capability}`);
        const costs = plan.capabilities.filter((c) => c.status === 'cost').map((c) => `${c.side} ${c.capability}`);
        return [name, { blocks, costs, rollbackLossless: plan.rollbackLossless }];
      }),
    );
    // RDS: only what no admin may do (read passwords, write through the guard as superuser) costs.
    expect(verdicts.rds).toEqual({ blocks: [], costs: ['blue roles', 'blue write-guard', 'green write-guard'], rollbackLossless: true });
    // Cloud SQL and Neon: no session_replication_role, so sync-schema cannot copy rows.
    expect(verdicts.cloudsql.costs).toContain('blue replica-role');
    expect(verdicts.cloudsql.blocks).toEqual([]);
    expect(verdicts.neon.costs).toContain('green replica-role');
    expect(verdicts.neon.rollbackLossless).toBe(true);
    // Azure: event triggers undocumented; where refused, DDL is found by catalog snapshots.
    expect(verdicts.azure.costs).toEqual(expect.arrayContaining(['blue ddl-log', 'blue ddl-guard', 'green ddl-log']));
    expect(verdicts.azure.blocks).toEqual([]);
    // Supabase: no subscription for the admin: green cannot follow blue at all.
    expect(verdicts.supabase.blocks).toEqual(['green subscription']);
    expect(verdicts.supabase.rollbackLossless).toBe(false);
    // Vanilla 15 with a managed-like role: it cannot subscribe, on either side.
    expect(verdicts['vanilla 15 managed-like'].blocks).toEqual(['green subscription']);
  });

  it('vanilla 15 blue to vanilla 17 green, managed-like roles: green subscribes, the rollback is declared lossy before anything starts', () => {
    const plan = privilegePlan(inputs(admin('admin', SERVICES['vanilla 15 managed-like']), admin('admin', SERVICES['vanilla 17 managed-like'])));
    expect(plan.capabilities.filter((c) => c.status === 'block')).toEqual([]);
    expect(status(plan, 'green', 'subscription')).toBe('ok');
    expect(status(plan, 'blue', 'subscription')).toBe('cost');
    expect(plan.rollbackLossless).toBe(false);
    expect(plan.rollbackLoss).toMatch(/blue cannot host the reverse subscription/);
    const findings = privilegeFindings(plan);
    expect(findings.find((f) => f.check === 'rollback-lossless')).toMatchObject({ status: 'warn' });
    expect(findings.find((f) => f.check === 'blue-subscription')?.fix).toMatch(/superusers|pg_create_subscription/);
  });

  it('login roles without a readable pg_authid: each one needs a password named, or to exist on green', () => {
    const side = admin('admin', SERVICES.rds);
    const none = privilegePlan(inputs(side, side, { blueLoginRoles: ['app', 'reporting', 'admin'], passwordsGiven: [], greenRoles: { admin: { canLogin: true }, reporting: { canLogin: true } } }));
    expect(none.rolesWithoutPassword).toEqual(['app']);
    expect(status(none, 'blue', 'roles')).toBe('block');
    const given = privilegePlan(inputs(side, side, { blueLoginRoles: ['app', 'admin'], passwordsGiven: ['app'] }));
    expect(given.rolesWithoutPassword).toEqual([]);
    expect(status(given, 'blue', 'roles')).toBe('cost');
  });

  it('blocks what nothing replaces, naming the grant', () => {
    const weak = { ...admin('admin', SERVICES['vanilla 17 managed-like']), replication: false, memberships: [], createdb: false, tablesNotOwned: ['public.orders'] };
    const plan = privilegePlan(inputs(weak, weak));
    const fixes = Object.fromEntries(plan.capabilities.filter((c) => c.status === 'block').map((c) => [`${c.side} ${c.capability}`, c.fix]));
    expect(fixes['blue replication-slot']).toMatch(/REPLICATION/);
    expect(fixes['blue end-sessions']).toMatch(/pg_signal_backend/);
    expect(fixes['blue publication']).toMatch(/OWNER TO admin/);
    expect(fixes['blue write-guard']).toMatch(/OWNER TO admin/);
    expect(fixes['green create-database']).toMatch(/CREATEDB/);
    // Green without REPLICATION only costs the rollback: the forward direction never needs a slot there.
    expect(status(plan, 'green', 'replication-slot')).toBe('cost');
    expect(plan.rollbackLossless).toBe(false);
  });

  it('freeze mode needs no replication at all', () => {
    const side = admin('admin', SERVICES['vanilla 15 managed-like']);
    const plan = privilegePlan(inputs(side, side, { mode: 'freeze' }));
    expect(plan.capabilities.some((c) => c.capability === 'subscription' || c.capability === 'replication-slot')).toBe(false);
    expect(plan.capabilities.filter((c) => c.status === 'block')).toEqual([]);
  });
});

describe('green before the clone', () => {
  it('probed in another database, its subscription right is inferred from pg_create_subscription and the database clone will create as its owner', () => {
    const blue = admin('admin', SERVICES['vanilla 15 managed-like']);
    const green: PrivilegeFacts = { ...admin('admin', SERVICES['vanilla 17 managed-like']), createOnDatabase: false, trials: { ...admin('admin', SERVICES['vanilla 17 managed-like']).trials, subscription: denied('for database postgres') } };
    expect(status(privilegePlan(inputs(blue, green)), 'green', 'subscription')).toBe('ok');
    // A database that exists already is probed itself: a refusal there is the answer.
    expect(status(privilegePlan(inputs(blue, green, { greenDatabaseExists: true })), 'green', 'subscription')).toBe('block');
    // Without pg_create_subscription there is nothing to infer from.
    expect(status(privilegePlan(inputs(blue, { ...green, memberships: ['pg_signal_backend'] })), 'green', 'subscription')).toBe('block');
  });
});

describe('roles copied by a role without SUPERUSER', () => {
  it('leaves out the attributes only a superuser may name, keeps the rest, and says what was dropped', () => {
    const script = [
      'CREATE ROLE app;',
      'ALTER ROLE app WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS;',
      'CREATE ROLE "replication";',
      'ALTER ROLE "replication" WITH NOSUPERUSER REPLICATION NOBYPASSRLS VALID UNTIL \'2030-01-01 NOREPLICATION\';',
      'ALTER ROLE app SET search_path TO replication;',
      'GRANT app TO reporting WITH INHERIT TRUE GRANTED BY postgres;',
    ].join('\n');
    const { statements, dropped } = forNonSuperuser(parseRolesScript(script));
    expect(statements.map((s) => s.sql)).toEqual([
      'CREATE ROLE app;',
      'ALTER ROLE app WITH INHERIT NOCREATEROLE NOCREATEDB LOGIN;',
      'CREATE ROLE "replication";',
      'ALTER ROLE "replication" WITH VALID UNTIL \'2030-01-01 NOREPLICATION\';',
      'ALTER ROLE app SET search_path TO replication;',
      'GRANT app TO reporting WITH INHERIT TRUE;',
    ]);
    expect(dropped).toEqual([{ role: 'replication', attribute: 'REPLICATION' }]);
  });
});

describe("the reverse direction's publication on green", () => {
  const blue = admin('admin', SERVICES['vanilla 17 managed-like']);
  const green = admin('admin', SERVICES['vanilla 17 managed-like']);

  it('green probed in its own database without CREATE there: the rollback is declared lossy, naming the grant', () => {
    const plan = privilegePlan(inputs(blue, { ...green, createOnDatabase: false }, { greenDatabaseExists: true }));
    expect(status(plan, 'green', 'publication')).toBe('cost');
    expect(plan.rollbackLossless).toBe(false);
    expect(plan.rollbackLoss).toMatch(/reverse direction's publication FOR TABLE needs CREATE on the database/);
    expect(plan.capabilities.find((c) => c.side === 'green' && c.capability === 'publication')?.fix).toMatch(/GRANT CREATE ON DATABASE … TO admin/);
  });

  it('a database clone creates is owned by the role: CREATE follows, the rollback stays lossless', () => {
    const plan = privilegePlan(inputs(blue, { ...green, createOnDatabase: false }));
    expect(status(plan, 'green', 'publication')).toBe('ok');
    expect(plan.rollbackLossless).toBe(true);
  });

  it('rechecked once green holds its tables: one the role does not own makes the rollback lossy, with the ownership to give', () => {
    const plan = privilegePlan(inputs(blue, green));
    expect(plan.rollbackLossless).toBe(true);
    const after = recheckReverse(plan, { ...green, tablesNotOwned: ['public.orders'] });
    expect(after.rollbackLossless).toBe(false);
    expect(after.rollbackLoss).toMatch(/ownership of public\.orders/);
    expect(after.capabilities.find((c) => c.side === 'green' && c.capability === 'publication')?.fix).toMatch(/OWNER TO admin/);
    // Nothing else in the plan changes, and a green that can make it keeps the plan as it was.
    expect(after.capabilities.filter((c) => c.side === 'blue')).toEqual(plan.capabilities.filter((c) => c.side === 'blue'));
    expect(recheckReverse(plan, green).rollbackLossless).toBe(true);
  });

  it('freeze mode has no reverse direction to recheck', () => {
    const plan = privilegePlan(inputs(blue, green, { mode: 'freeze' }));
    expect(recheckReverse(plan, { ...green, createOnDatabase: false, tablesNotOwned: ['public.orders'] })).toBe(plan);
  });
});

describe('roles.requireOnGreen', () => {
  const side = admin('admin', SERVICES.rds);
  it('nothing is copied and no password is asked for; a role missing on green, or unable to log in there, blocks', () => {
    const base = { requireOnGreen: true, passwordsGiven: [], blueRoles: ['app', 'readers', 'admin'], blueLoginRoles: ['app', 'admin'] };
    const missing = privilegePlan(inputs(side, side, { ...base, greenRoles: { admin: { canLogin: true }, app: { canLogin: false } } }));
    expect(missing.rolesWithoutPassword).toEqual([]);
    expect(missing.roleCopy.requiredOnGreen).toBe(true);
    const roles = missing.capabilities.filter((c) => c.capability === 'roles');
    expect(roles).toHaveLength(1);
    expect(roles[0]).toMatchObject({ side: 'green', status: 'block', detail: 'missing on green: readers; on green but NOLOGIN: app' });
    const present = privilegePlan(inputs(side, side, { ...base, greenRoles: { admin: { canLogin: true }, app: { canLogin: true }, readers: { canLogin: false } } }));
    expect(status(present, 'green', 'roles')).toBe('ok');
    expect(present.capabilities.filter((c) => c.status === 'block')).toEqual([]);
  });
});
