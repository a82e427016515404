import { describe, expect, it } from 'vitest';
import { actOn, type Blocker, describeBlocker, poolModeRefusals } from '../../src/core/blockers.js';

const idle: Blocker = { pid: 41, user: 'app', application: 'billing-worker', client: '10.0.0.5', state: 'idle in transaction', transactionMs: 12_345, queryStart: '2026-12-06 10:00:01 UTC' };
const active: Blocker = { pid: 42, user: 'app', application: '', client: 'local', state: 'active', transactionMs: 3_000, queryStart: null };

describe('sessions that would hold the pause', () => {
  it('names each one the way an operator reads pg_stat_activity', () => {
    expect(describeBlocker(idle)).toBe('pid 41 app "billing-worker" from 10.0.0.5: idle in transaction, transaction open 12.3 s, query started 2026-12-06 10:00:01 UTC');
    expect(describeBlocker(active)).toBe('pid 42 app from local: active, transaction open 3.0 s');
  });

  it('waits for all, cancels only running queries (a cancel cannot end an idle transaction), or ends every session', () => {
    const policy = { waitMs: 1000, minAgeMs: 500 };
    expect(actOn([idle, active], { ...policy, action: 'wait' })).toEqual({ cancel: [], terminate: [] });
    expect(actOn([idle, active], { ...policy, action: 'cancel' })).toEqual({ cancel: [active], terminate: [] });
    expect(actOn([idle, active], { ...policy, action: 'terminate' })).toEqual({ cancel: [], terminate: [idle, active] });
  });

  it('refuses session and statement pooling with the way out, per instance; transaction pooling passes', () => {
    const refusals = poolModeRefusals([
      { instance: 'pgb-a', mode: 'transaction', clients: 3 },
      { instance: 'pgb-b', mode: 'session', clients: 7 },
      { instance: 'pgb-c', mode: 'statement', clients: 0 },
    ], 'app');
    expect(refusals.map((r) => r.message)).toEqual([
      'pgb-b pools "app" in session mode: PAUSE waits for every connected client (7 now) to disconnect, while they keep writing to the side traffic leaves; a flip cannot hold writes there',
      'pgb-c pools "app" in statement mode, which pg-bluegreen does not support (a flip needs transactions held whole)',
    ]);
    expect(refusals[0].fix).toMatch(/pool_mode=transaction/);
  });
});

describe('which side a target serves', () => {
  it('gives one answer, whatever name the loopback host goes by', async () => {
    const { sideServedBy } = await import('../../src/adapters/pointer.js');
    const config = { addresses: { blue: { pooler: { host: '127.0.0.1', port: 5432, database: 'app' } }, green: { pooler: { host: '127.0.0.1', port: 5433, database: 'app' } } } } as unknown as Parameters<typeof sideServedBy>[0];
    expect(sideServedBy(config, { host: 'localhost', port: 5432, database: 'app' })).toBe('blue');
    expect(sideServedBy(config, { host: '::1', port: 5433, database: 'app' })).toBe('green');
    expect(sideServedBy(config, { host: '127.0.0.1', port: 5433, database: 'other' })).toBeUndefined();
  });
});
