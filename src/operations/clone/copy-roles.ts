/**
 * copy-roles: blue's roles onto green (pg_dumpall --roles-only), those green lacks. Without a superuser
 * (the privilege plan): pg_roles instead of pg_authid, passwords from the operator. Roles are shared by
 * every database of green's server: nothing is undone (a role made here harms nothing and is reused).
 */
import { withDatabase } from '../../core/conninfo.js';
import { forNonSuperuser, parseRolesScript, planRoles } from '../../core/roles.js';
import { applyRoleStatements, roleNames } from '../../adapters/database.js';
import { runPgTool } from '../../adapters/pg-tools.js';
import { rolePasswords, setRolePasswords } from '../../adapters/role-passwords.js';
import type { Operation } from '../operation.js';
import { type BlueFacts, type CloneCtx, onGreen, toolOn } from './context.js';

export const copyRoles: Operation<CloneCtx, Pick<BlueFacts, 'blueMajor'>, void> = {
  name: 'copy-roles',
  title: () => 'Copying roles to green',
  run: async (ctx, { blueMajor }) => {
    const { config } = ctx.deps;
    const copy = ctx.record.state().privileges?.roleCopy ?? { passwords: 'from-blue', superuserAttributes: true };
    if (copy.requiredOnGreen) return { skipped: 'roles.requireOnGreen: every role is on green already (checked by preflight)' };
    const args = ['--roles-only', ...(copy.passwords === 'from-operator' ? ['--no-role-passwords'] : [])];
    const script = await runPgTool({ tool: 'pg_dumpall', args, ...toolOn(ctx, withDatabase(config.blue, 'postgres'), blueMajor) });
    return onGreen(
      ctx,
      async (green) => {
        const plan = planRoles(parseRolesScript(script), await roleNames(green));
        const adapted = copy.superuserAttributes ? { statements: [...plan.statements], dropped: [] } : forNonSuperuser(plan.statements);
        const { grantsSkipped } = await applyRoleStatements(green, adapted.statements);
        const passwords =
          copy.passwords === 'from-operator' ? await setRolePasswords(green, plan.create, rolePasswords(config.roles)) : undefined;
        const detail = [
          `${plan.create.length} created`,
          plan.skip.length ? `, ${plan.skip.length} already there` : '',
          grantsSkipped ? `, ${grantsSkipped} grants skipped` : '',
          passwords !== undefined ? `, ${passwords} passwords from the operator` : '',
          adapted.dropped.length ? `; left out (superuser only): ${adapted.dropped.map((d) => `${d.role} ${d.attribute}`).join(', ')}` : '',
        ].join('');
        return { output: undefined, detail };
      },
      withDatabase(config.green, 'postgres'),
    );
  },
};
