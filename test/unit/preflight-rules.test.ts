import { describe, expect, it } from 'vitest';
import { blocked, collationDrift, preflightFindings, type PreflightFacts } from '../../src/core/preflight-rules.js';

const healthy: PreflightFacts = {
  mode: 'freeze',
  database: 'app',
  blue: { version: '15.8', major: 15, superuser: true, systemId: 'a', walLevel: 'replica', tablesWithoutKey: [], unloggedTables: [], largeObjects: 0, longTransactions: [], sizeBytes: 1e9, extensions: ['pgcrypto'] },
  green: { version: '16.2', major: 16, superuser: true, systemId: 'b', databaseExists: false, userTables: 0, availableExtensions: ['pgcrypto'] },
  greenResettable: false,
  tools: { pgDump: '/usr/lib/postgresql/16/bin/pg_dump' },
  pointer: { description: 'pgbouncer', pointsAt: 'blue' },
  dumpDirFreeBytes: 1e11,
  dumpDir: '/var/dumps',
  migrations: { pending: 4 },
};

const statusOf = (f: PreflightFacts, check: string) => preflightFindings(f).find((x) => x.check === check)?.status;

describe('preflight rules', () => {
  it('passes a healthy setup (a major upgrade is fine)', () => {
    const findings = preflightFindings(healthy);
    expect(blocked(findings)).toBe(false);
    expect(findings.find((f) => f.check === 'versions')?.message).toBe('major upgrade 15 → 16');
  });
  it('says which unlogged tables every flip copies inside its pause and which make it refuse, at their size now; never blocks', () => {
    const facts: PreflightFacts = {
      ...healthy, mode: 'replicate', unloggedCopyMaxRows: 100,
      blue: { ...healthy.blue, walLevel: 'logical', unloggedTables: ['public.cache', 'public.sessions'], unloggedRows: { 'public.cache': 40, 'public.sessions': 101 } },
    };
    const finding = preflightFindings(facts).find((f) => f.check === 'unlogged-tables');
    expect(finding).toMatchObject({ status: 'warn', message: 'unlogged tables: public.cache (40 rows), public.sessions (101 rows)' });
    expect(finding?.fix).toMatch(/clone copies their rows, and every switchover and rollback copies their current rows .* inside the pause, after the freeze .* at most switchover.unloggedCopyMaxRows \(100\) rows/);
    expect(finding?.fix).toMatch(/At their size now, public.sessions is over it: each flip will refuse before the pause, naming it, unless --accept-data-loss/);
    expect(blocked(preflightFindings(facts))).toBe(false);
    const small = preflightFindings({ ...facts, unloggedCopyMaxRows: 1000 }).find((f) => f.check === 'unlogged-tables');
    expect(small?.fix).not.toMatch(/At their size now/);
    const freeze = preflightFindings({ ...facts, mode: 'freeze' }).find((f) => f.check === 'unlogged-tables');
    expect(freeze?.fix).toMatch(/clone copies their rows, blue frozen/);
  });
  it('says why the privilege probe could not read, instead of falling back to the superuser checks', () => {
    const findings = preflightFindings({ ...healthy, privileges: { error: 'roles.passwordsFile pw.json: must be mode 0600 (readable by its owner only)' } });
    expect(findings[0]).toMatchObject({ check: 'privileges', status: 'block', message: expect.stringContaining('must be mode 0600') });
  });
  it('says when a cutover is under way, so its own findings are not read as problems to fix', () => {
    const findings = preflightFindings({ ...healthy, cutoverUnderWay: { phase: 'switched-over', id: 'c1' } });
    expect(findings[0]).toMatchObject({ check: 'cutover', status: 'warn', message: expect.stringMatching(/^cutover c1 is under way \(phase switched-over\)/) });
    expect(preflightFindings(healthy).some((f) => f.check === 'cutover')).toBe(false);
  });
  it("names the application's own publications, which neither clone copies; never blocks", () => {
    const findings = preflightFindings({ ...healthy, blue: { ...healthy.blue, publications: ['orders_feed', '"Audit Feed"'] } });
    expect(findings.find((f) => f.check === 'publications')).toMatchObject({ status: 'warn', message: expect.stringMatching(/^blue has publications of its own: orders_feed, "Audit Feed"; neither clone copies them/) });
    expect(blocked(findings)).toBe(false);
    expect(preflightFindings(healthy).find((f) => f.check === 'publications')).toBeUndefined();
  });
  it('blocks each thing that would break a cutover, with a fix', () => {
    const cases: Array<[Partial<PreflightFacts>, string]> = [
      [{ blue: { error: 'connection refused' } }, 'blue-reachable'],
      [{ green: { ...healthy.green, major: 14 } }, 'versions'],
      [{ green: { ...healthy.green, databaseExists: true, userTables: 3 } }, 'green-empty'],
      [{ green: { ...healthy.green, availableExtensions: [] } }, 'extensions'],
      [{ pointer: { description: 'pgbouncer', pointsAt: 'green' } }, 'pointer'],
      [{ dumpDirFreeBytes: 1e6 }, 'disk-space'],
      [{ tools: { error: 'no pg_dump' } }, 'client-tools'],
      [{ blue: { ...healthy.blue, superuser: false } }, 'blue-privileges'],
      [{ mode: 'replicate', blue: { ...healthy.blue, tablesWithoutKey: ['public.log'] } }, 'primary-keys'],
      [{ mode: 'replicate' }, 'wal-level'],
      [{ blue: { ...healthy.blue, loginRoles: { app: { canLogin: true, hasPassword: true } } }, green: { ...healthy.green, loginRoles: { app: { canLogin: false, hasPassword: false } } } }, 'roles'],
    ];
    for (const [change, check] of cases) {
      const finding = preflightFindings({ ...healthy, ...change }).find((f) => f.check === check);
      expect(finding?.status, check).toBe('block');
      expect(finding?.fix, check).toBeTruthy();
    }
  });
  it('warns instead of blocking where freeze mode copes', () => {
    expect(statusOf({ ...healthy, blue: { ...healthy.blue, tablesWithoutKey: ['public.log'] } }, 'primary-keys')).toBe('warn');
    expect(statusOf({ ...healthy, greenResettable: true, green: { ...healthy.green, databaseExists: true, userTables: 7 } }, 'green-empty')).toBe('warn');
    expect(statusOf({ ...healthy, blue: { ...healthy.blue, longTransactions: [{ pid: 7, seconds: 900, who: 'app' }] } }, 'long-transactions')).toBe('warn');
  });
  it('warns, in replicate mode, when a stalled subscriber could fill a side\'s disk with WAL', () => {
    const replicate = { ...healthy, mode: 'replicate' as const, blue: { ...healthy.blue, maxSlotWalKeepSize: '-1' }, green: { ...healthy.green, maxSlotWalKeepSize: '20GB' } };
    const blue = preflightFindings(replicate).find((f) => f.check === 'blue-slot-wal-limit');
    expect(blue).toMatchObject({ status: 'warn', message: expect.stringMatching(/keeps all its WAL for our slot until its disk is full/) });
    expect(statusOf(replicate, 'green-slot-wal-limit')).toBe('ok');
    expect(statusOf({ ...replicate, mode: 'freeze' }, 'blue-slot-wal-limit')).toBeUndefined();
    // A limit so small a short stall passes it: the slot would be invalidated and the next flip stop being lossless.
    const tiny = { ...replicate, green: { ...healthy.green, maxSlotWalKeepSize: '1MB' } };
    expect(preflightFindings(tiny).find((f) => f.check === 'green-slot-wal-limit')).toMatchObject({ status: 'warn', message: expect.stringMatching(/^green: max_slot_wal_keep_size = 1MB: a subscriber that stalls briefly/) });
    expect(statusOf({ ...replicate, green: { ...healthy.green, maxSlotWalKeepSize: '2GB' } }, 'green-slot-wal-limit')).toBe('ok');
  });
  it('warns when a side may lose what it acknowledged (fsync, synchronous_commit or full_page_writes off)', () => {
    const fast = { ...healthy, blue: { ...healthy.blue, notDurable: ['fsync', 'synchronous_commit'] } };
    expect(preflightFindings(fast).find((f) => f.check === 'blue-durability')).toMatchObject({
      status: 'warn',
      message: expect.stringMatching(/^blue: fsync, synchronous_commit off: a crash of blue can lose transactions it acknowledged/),
    });
    expect(statusOf(fast, 'green-durability')).toBeUndefined();
    expect(statusOf({ ...healthy, green: { ...healthy.green, notDurable: [] } }, 'green-durability')).toBeUndefined();
  });
  it('names each missing privilege and the feature that needs it, instead of a bare "not a superuser"', () => {
    const green = { ...healthy.green, superuser: false, user: 'deployer', privileges: { replication: true, createdb: false, createrole: true, signalBackend: false, createSubscription: false } };
    const finding = preflightFindings({ ...healthy, green }).find((f) => f.check === 'green-privileges');
    expect(finding?.status).toBe('block');
    expect(finding?.message).toBe('green: the configured user "deployer" lacks: SUPERUSER: event triggers (the freeze\'s DDL guard and the DDL log) and the write guard\'s bypass; pg_signal_backend: ending open transactions when writes freeze; pg_create_subscription: subscribing to the other side; CREATEDB: creating green\'s database');
  });
  it('warns when a peer address cannot be reached from the controller', () => {
    expect(preflightFindings({ ...healthy, peers: { blue: 'connection refused' } }).find((f) => f.check === 'blue-peer')).toMatchObject({ status: 'warn', message: expect.stringMatching(/green must reach it/) });
  });
  it('lists each extension with its version on blue and what green offers, and warns when the default collation differs', () => {
    const facts = {
      ...healthy,
      blue: { ...healthy.blue, extensions: ['pgcrypto'], extensionVersions: { pgcrypto: '1.3' }, collation: { provider: 'libc', version: '2.36' } },
      green: { ...healthy.green, availableExtensions: ['pgcrypto'], availableVersions: { pgcrypto: '1.4' }, collation: { provider: 'libc', version: '2.39' } },
    };
    const findings = preflightFindings(facts);
    expect(findings.find((f) => f.check === 'extensions')?.message).toBe('extensions: pgcrypto 1.3 on blue, green offers 1.4 (updated on green after the restore)');
    expect(findings.find((f) => f.check === 'collations')).toMatchObject({ status: 'warn', message: expect.stringMatching(/blue libc 2\.36, green libc 2\.39/) });
    expect(preflightFindings({ ...facts, green: { ...facts.green, collation: { provider: 'libc', version: '2.36' } } }).find((f) => f.check === 'collations')).toBeUndefined();
  });

  it('warns when a collation the application uses has another library version on green, and not for one green lacks yet', () => {
    const inUse = [
      { name: 'pg_catalog."de-DE-x-icu"', provider: 'icu', version: '153.120' },
      { name: 'public.german', provider: 'icu', version: '153.120' },
      { name: 'pg_catalog."C"', provider: 'libc', version: null },
    ];
    const onGreen = [
      { name: 'pg_catalog."de-DE-x-icu"', provider: 'icu', version: '153.80' },
      { name: 'pg_catalog."C"', provider: 'libc', version: null },
    ];
    expect(collationDrift(inUse, onGreen)).toEqual([{ name: 'pg_catalog."de-DE-x-icu"', blue: 'icu 153.120', green: 'icu 153.80' }]);
    const facts = { ...healthy, blue: { ...healthy.blue, collationsInUse: inUse }, green: { ...healthy.green, collationVersions: onGreen } };
    expect(preflightFindings(facts).find((f) => f.check === 'collations')).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('pg_catalog."de-DE-x-icu" (blue icu 153.120, green icu 153.80)'),
    });
    expect(preflightFindings({ ...facts, green: { ...facts.green, collationVersions: inUse } }).find((f) => f.check === 'collations')).toBeUndefined();
    // A provider change is a difference even when the version strings agree.
    expect(collationDrift([{ name: 'x.y', provider: 'libc', version: '1' }], [{ name: 'x.y', provider: 'icu', version: '1' }])).toHaveLength(1);
  });
});
