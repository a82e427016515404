/** Preflight's privilege probe on both sides, turned into the plan (strategy per capability) by the pure core. */
import { withDatabase } from '../core/conninfo.js';
import type { BlueFacts, GreenFacts } from '../core/preflight-rules.js';
import { type PrivilegePlan, privilegePlan } from '../core/privileges.js';
import { withClient } from '../adapters/pg.js';
import { probePrivileges } from '../adapters/privilege-probe.js';
import { rolePasswords } from '../adapters/role-passwords.js';
import { conn, type Deps } from './context.js';

/** The plan, or why it could not be made (an unreachable side is already its own finding). */
export async function readPrivilegePlan(deps: Deps, blue: BlueFacts, green: GreenFacts): Promise<{ plan?: PrivilegePlan; error?: string }> {
  if (blue.error || green.error) return {};
  const { config } = deps;
  try {
    const options = (side: 'blue' | 'green') => ({ ...conn(deps, side, 'preflight'), connectTimeoutMs: 5000 });
    const blueFacts = await withClient(config.blue, probePrivileges, options('blue'));
    // Before the clone green's database may not exist yet: the server's own database tells the same role facts.
    const greenFacts = await withClient(
      green.databaseExists ? config.green : withDatabase(config.green, 'postgres'),
      probePrivileges,
      options('green'),
    );
    const plan = privilegePlan({
      mode: config.mode,
      blue: blueFacts,
      green: greenFacts,
      greenDatabaseExists: green.databaseExists ?? false,
      blueLoginRoles: Object.entries(blue.loginRoles ?? {})
        .filter(([, r]) => r.canLogin)
        .map(([name]) => name),
      greenRoles: green.loginRoles ?? {},
      passwordsGiven: [...rolePasswords(config.roles).keys()],
      requireOnGreen: config.roles.requireOnGreen,
      blueRoles: Object.keys(blue.loginRoles ?? {}),
    });
    return { plan };
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0] };
  }
}
