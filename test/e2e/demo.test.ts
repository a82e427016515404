/** The README's first command ends in `npm run demo`: it must keep working, and keep its promise. */
import { describe, expect, it } from 'vitest';
import { bluegreen } from './run-cli.js';

describe('bluegreen demo', () => {
  it('runs a replicate-mode cutover, a rollback and a second switchover, losing no write', async () => {
    const r = await bluegreen(['demo', '--scale', '0.2']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/write pause \(PgBouncer PAUSE → RESUME\): \d+ ms/);
    expect(r.stdout).toMatch(/writes accepted: \d+; refused: 0\n/);
    expect(r.stdout).toMatch(/accepted writes on green, which serves now: (\d+) of \1 — none lost/);
    expect(r.stdout).toContain('Stopping the sandbox');
  });

  it('--managed: as an admin without SUPERUSER, preflight per capability, the lossy rollback refused then accepted, no write lost', async () => {
    const r = await bluegreen(['demo', '--managed', '--scale', '0.1']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/blue roles: pg_roles and pg_auth_members, without passwords/);
    expect(r.stdout).toMatch(/✖ the rollback after this switchover would not be lossless/);
    expect(r.stdout).toMatch(/write pause \(PgBouncer PAUSE → RESUME\): \d+ ms/);
    expect(r.stdout).toMatch(/accepted writes on green, which serves now: (\d+) of \1 — none lost/);
  });

  it("--mode freeze: the rollback gives up green's writes knowingly, the re-clone says so, the second switchover loses nothing", async () => {
    const r = await bluegreen(['demo', '--mode', 'freeze', '--scale', '0.1']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/accepted writes discarded with green's data: (\d+), as the rollback counted \(\1\)\n/);
    expect(r.stdout).toMatch(/re-creating it needs clone --accept-data-loss, which is recorded/);
    expect(r.stdout).toMatch(/accepted writes on green, which serves now: (\d+) of \1 — none lost/);
  });
});
