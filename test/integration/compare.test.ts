/** Fast clusters: no durability asserted. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _clone } from '../../src/commands/clone.js';
import { _compare } from '../../src/commands/compare.js';
import { _migrate } from '../../src/commands/migrate.js';
import { type Rig, sql, startRig } from './helpers.js';

/** Changes green behind the tool's back, the way a bug or a person would. */
const onGreen = (rig: Rig, text: string) => sql(rig.sandbox.greenUrl, `SET bluegreen.allow_writes = on; ${text}`);

describe('compare', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
    expect((await _clone(rig.deps)).ok).toBe(true);
    await _migrate(rig.deps);
  });
  afterAll(() => rig?.stop());

  it('matches after clone and migrate, listing what the migrations changed', async () => {
    const result = await _compare(rig.deps);
    expect(result.schema.unexpected).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.tables.find((t) => t.table === 'public.orders')).toMatchObject({ status: 'ok' });
    expect(result.tables.find((t) => t.table === 'public.price_alerts')).toMatchObject({ table: 'public.price_alerts', blueRows: null, greenRows: 0, status: 'new-on-green' });
    expect(result.schema.expected.map((d) => d.object)).toEqual(expect.arrayContaining(['column public.positions.leverage', 'column public.api_keys.scopes', 'index public.trades_executed_at_idx', 'table public.price_alerts']));
  });

  it('flags a missing row and a column added outside the migrations', async () => {
    await onGreen(rig, `DELETE FROM trades WHERE id = (SELECT max(id) FROM trades); ALTER TABLE users ADD COLUMN debug_flag boolean`);
    const result = await _compare(rig.deps);
    expect(result.ok).toBe(false);
    const trades = result.tables.find((t) => t.table === 'public.trades')!;
    expect(trades.status).toBe('differs');
    expect(trades.blueRows! - trades.greenRows!).toBe(1);
    expect(trades.differences).toEqual([{ key: { id: String(trades.blueRows) }, kind: 'missing-on-green' }]);
    expect(result.schema.unexpected).toEqual([
      { object: 'column public.users.debug_flag', kind: 'only-on-green', green: 'boolean', reason: 'changed on green outside the migrations' },
    ]);
  });

  it('reports foreign-key orphans, NOT VALID constraints and sequences behind their column on green', async () => {
    await onGreen(
      rig,
      `SET session_replication_role = replica; DELETE FROM users WHERE id = 1; SET session_replication_role = origin;
       ALTER TABLE orders ADD CONSTRAINT qty_small CHECK (quantity < 1000000) NOT VALID;
       SELECT setval('accounts_id_seq', 5);`,
    );
    const result = await _compare(rig.deps);
    const found = result.integrity.map((f) => `${f.check} ${f.object}`);
    expect(found).toEqual(expect.arrayContaining(['foreign-key-orphans public.accounts.accounts_user_id_fkey', 'invalid-constraint public.orders.qty_small', 'sequence-behind public.accounts_id_seq']));
    expect(result.integrity.find((f) => f.check === 'sequence-behind')?.detail).toMatch(/^at 5, public\.accounts\.id reaches \d+: the next insert would collide$/);
  });

  it('flags DDL made on blue since the clone', async () => {
    await sql(rig.sandbox.blueUrl, `SET bluegreen.allow_writes = on; CREATE INDEX users_name_idx ON users (name)`);
    const result = await _compare(rig.deps);
    expect(result.schema.unexpected.find((d) => d.object === 'index public.users_name_idx')).toMatchObject({ kind: 'only-on-blue', reason: 'blue changed since the clone (DDL on blue)' });
  });
});
