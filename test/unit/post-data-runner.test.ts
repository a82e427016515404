import { describe, expect, it } from 'vitest';
import { postDataRunner, type PostDataWork } from '../../src/commands/post-data-runner.js';
import { type ForeignKey, tableKey } from '../../src/core/post-data.js';

const T = (name: string) => tableKey('public', name);
const fk = (table: string, references: string, bytes: number, validated = true): ForeignKey => ({
  schema: 'public', table, name: `${table}_${references}_fkey`, references: T(references), definition: `FOREIGN KEY (x) REFERENCES public.${references}(id)`, validated, bytes,
});

/** Work that records what ran, in order, and finishes each item when the test says so. */
function fakeWork(options: { failOn?: string } = {}) {
  const log: string[] = [];
  const pending = new Map<string, () => void>();
  const step = (name: string) =>
    new Promise<void>((resolve, reject) => {
      log.push(`start ${name}`);
      pending.set(name, () => {
        log.push(`end ${name}`);
        if (name === options.failOn) reject(new Error(`${name} failed`));
        else resolve();
      });
    });
  const work: PostDataWork = {
    restore: (lines, parallel) => step(`restore${parallel ? ' (parallel)' : ''} ${lines.join(',')}`),
    addKeys: (keys) => step(`add ${keys.map((k) => k.name).join(',')}`),
    validate: (key) => step(`check ${key.name}`),
  };
  const settle = () => new Promise((r) => setTimeout(r, 0));
  /** Ends the running item whose name starts with `prefix`. */
  const end = async (prefix: string) => {
    await settle();
    const name = [...pending.keys()].find((n) => n.startsWith(prefix));
    if (!name) throw new Error(`nothing running named ${prefix}…: ${[...pending.keys()].join(' | ')}`);
    pending.get(name)!();
    pending.delete(name);
    await settle();
  };
  /** What runs now, sorted (items started together have no order between them). */
  const running = async () => {
    await settle();
    return [...pending.keys()].sort();
  };
  return { work, log, end, running };
}

// orders (large, built early: key then index), trades (large), accounts (small: the rest), one key blue never validated.
const LINES = ['k-orders', 'i-orders', 'k-trades', 'k-accounts', 'trigger', 'fk-trades', 'fk-orders', 'fk-loose'];
const KEYS = new Map([
  ['fk-trades', fk('trades', 'orders', 300)],
  ['fk-orders', fk('orders', 'accounts', 200)],
  ['fk-loose', fk('loose', 'orders', 1, false)],
]);
const plan = (jobs = 2) => ({
  lines: LINES,
  early: new Map([
    [T('orders'), { keys: ['k-orders'], indexes: ['i-orders'] }],
    [T('trades'), { keys: ['k-trades'], indexes: [] }],
  ]),
  foreignKeys: KEYS,
  jobs,
});

describe('the post-data runner', () => {
  it("adds the keys pointing at a table between its key and its other indexes, checks them beside those, and runs the rest beside the build in flight", async () => {
    const f = fakeWork();
    const r = postDataRunner(plan(), f.work);
    r.tableDone(T('trades'));
    r.tableDone(T('orders')); // waits: one build at a time while rows stream
    expect(await f.running()).toEqual(['restore k-trades']);
    await f.end('restore k-trades');
    expect(await f.running()).toEqual(['restore k-orders']);
    await f.end('restore k-orders');
    // orders has its key: trades (complete) and loose (not streamed: the rest's) can point at it, but loose waits for the rest.
    expect(await f.running()).toEqual(['add trades_orders_fkey']);
    await f.end('add trades');
    // The check of trades' key runs beside orders' index (RowShare on orders lets the build go on).
    expect(await f.running()).toEqual(['check trades_orders_fkey', 'restore i-orders']);
    r.streamsDone();
    // The rest: everything not built early and not a key of ours, beside the index in flight.
    expect(await f.running()).toEqual(['check trades_orders_fkey', 'restore (parallel) k-accounts,trigger', 'restore i-orders']);
    await f.end('restore (parallel)');
    // accounts is done, orders is not complete yet: orders' own key waits; loose's (its table is the rest's) is added.
    expect(await f.running()).toEqual(['add loose_orders_fkey', 'check trades_orders_fkey', 'restore i-orders']);
    await f.end('add loose');
    await f.end('restore i-orders');
    expect(await f.running()).toEqual(['add orders_accounts_fkey', 'check trades_orders_fkey']);
    await f.end('add orders');
    // Two checks at a time once the rows are in; loose's key (never validated on blue) is not checked.
    expect(await f.running()).toEqual(['check orders_accounts_fkey', 'check trades_orders_fkey']);
    await f.end('check trades');
    await f.end('check orders');
    await expect(r.finish()).resolves.toEqual({ earlyTables: 2, keysAdded: 3, keysChecked: 2 });
    expect(f.log.filter((l) => l.startsWith('start check'))).toEqual(['start check trades_orders_fkey', 'start check orders_accounts_fkey']);
  });

  it('checks one key at a time while rows stream, then the largest first, jobs at a time', async () => {
    const f = fakeWork();
    const keys = new Map([
      ['fk-a', fk('a', 'accounts', 10)],
      ['fk-b', fk('b', 'accounts', 30)],
      ['fk-c', fk('c', 'accounts', 20)],
    ]);
    const r = postDataRunner({ lines: ['k-accounts', 'fk-a', 'fk-b', 'fk-c'], early: new Map([[T('accounts'), { keys: ['k-accounts'], indexes: [] }], [T('a'), { keys: [], indexes: [] }], [T('b'), { keys: [], indexes: [] }], [T('c'), { keys: [], indexes: [] }]]), foreignKeys: keys, jobs: 2 }, f.work);
    r.tableDone(T('a'));
    r.tableDone(T('b'));
    r.tableDone(T('c'));
    r.tableDone(T('accounts'));
    await f.end('restore k-accounts');
    await f.end('add');
    expect(await f.running()).toEqual(['check b_accounts_fkey']);
    r.streamsDone();
    expect(await f.running()).toEqual(['check b_accounts_fkey', 'check c_accounts_fkey']);
    await f.end('check b');
    expect(await f.running()).toEqual(['check a_accounts_fkey', 'check c_accounts_fkey']);
    await f.end('check c');
    await f.end('check a');
    await expect(r.finish()).resolves.toMatchObject({ keysAdded: 3, keysChecked: 3 });
  });

  it('stops starting work at the first failure, waits for what runs, and reports that failure', async () => {
    const f = fakeWork({ failOn: 'restore k-orders' });
    const r = postDataRunner(plan(), f.work);
    r.tableDone(T('orders'));
    r.tableDone(T('trades'));
    r.streamsDone();
    expect(await f.running()).toEqual(['restore (parallel) k-trades,k-accounts,trigger', 'restore k-orders']);
    await f.end('restore k-orders');
    // Nothing new starts (no index, no key); the rest's restore, already running, is waited for.
    const finished = r.finish().then(() => 'finished', (e: Error) => e.message);
    expect(await f.running()).toEqual(['restore (parallel) k-trades,k-accounts,trigger']);
    await f.end('restore (parallel)');
    expect(await finished).toBe('restore k-orders failed');
    expect(f.log.some((l) => l.startsWith('start add') || l.startsWith('start check') || l === 'start restore i-orders')).toBe(false);
  });

  it('after a failed stream, stop() waits for the build in flight and starts nothing else', async () => {
    const f = fakeWork();
    const r = postDataRunner(plan(), f.work);
    r.tableDone(T('trades'));
    r.tableDone(T('orders'));
    const stopped = r.stop();
    await f.end('restore k-trades');
    await stopped;
    expect(await f.running()).toEqual([]);
    expect(f.log).toEqual(['start restore k-trades', 'end restore k-trades']);
  });

  it('restores comments last, once every foreign key is added (one may describe a key we add ourselves)', async () => {
    const f = fakeWork();
    const r = postDataRunner({ ...plan(), lines: [...LINES, 'comment-fk'], afterKeys: ['comment-fk'] }, f.work);
    r.streamsDone();
    expect(await f.running()).toEqual(['restore (parallel) k-orders,i-orders,k-trades,k-accounts,trigger']);
    await f.end('restore (parallel)');
    await f.end('add');
    const finished = r.finish();
    await f.end('check');
    await f.end('check');
    expect(await f.running()).toEqual(['restore comment-fk']);
    await f.end('restore comment-fk');
    await expect(finished).resolves.toMatchObject({ keysAdded: 3 });
    expect(f.log.indexOf('start restore comment-fk')).toBeGreaterThan(f.log.indexOf('end add trades_orders_fkey,orders_accounts_fkey,loose_orders_fkey'));
  });
});
