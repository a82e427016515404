import { describe, expect, it } from 'vitest';
import { diffRows, drillTable, type KeyRange, multisetVerdict, planColumns, type TableReader } from '../../src/core/content-diff.js';

type Table = Map<number, string>;

/** A fake reader over two in-memory tables keyed by integers; `between` runs between reads, like a live writer. */
function reader(publisher: Table, subscriber: Table, opts: { replicating?: boolean; between?: () => void } = {}): TableReader & { hashes: number } {
  const inRange = (k: number, r: KeyRange) => (r.lo === undefined || k >= Number(r.lo[0])) && (r.hi === undefined || k < Number(r.hi[0]));
  const hashOf = (t: Table, r: KeyRange) => {
    const rows = [...t.entries()].filter(([k]) => inRange(k, r)).sort(([a], [b]) => a - b);
    return { count: rows.length, hash: rows.map(([k, v]) => `${k}=${v}`).join(',') };
  };
  const rowsOf = (t: Table, pick: (k: number) => boolean) => new Map([...t.entries()].filter(([k]) => pick(k)).map(([k, v]) => [JSON.stringify([String(k)]), v]));
  const window = <T>(read: (t: Table) => T) => {
    const p = read(publisher);
    opts.between?.();
    const s = read(subscriber);
    const again = opts.replicating ? read(publisher) : undefined;
    return { publisher: p, subscriber: s, publisherAgain: again };
  };
  const r = {
    hashes: 0,
    keyColumns: ['id'],
    async hashRange(range: KeyRange) {
      r.hashes++;
      return window((t) => hashOf(t, range));
    },
    async split(range: KeyRange, parts: number) {
      const keys = [...publisher.keys()].filter((k) => inRange(k, range)).sort((a, b) => a - b);
      const step = Math.ceil(keys.length / parts);
      return keys.filter((_, i) => i > 0 && i % step === 0).map((k) => [String(k)]);
    },
    async rows(range: KeyRange) {
      return window((t) => rowsOf(t, (k) => inRange(k, range)));
    },
    async rowsByKey(keys: ReadonlyArray<string>) {
      const wanted = new Set(keys.map((k) => Number(JSON.parse(k)[0])));
      return window((t) => rowsOf(t, (k) => wanted.has(k)));
    },
    async differingColumns(keys: ReadonlyArray<string>) {
      return new Map(keys.map((k) => [k, ['value']]));
    },
  };
  return r;
}

const table = (n: number) => new Map(Array.from({ length: n }, (_, i) => [i + 1, `v${i + 1}`]));
const options = { rowLevelAt: 50, splitInto: 8, maxDifferences: 20, settleRounds: 3 };

describe('content drill', () => {
  it('equal tables cost one hash', async () => {
    const r = reader(table(10_000), table(10_000));
    const result = await drillTable(r, options);
    expect(result).toMatchObject({ status: 'ok', publisherRows: 10_000, subscriberRows: 10_000, chunks: 1, differences: [] });
  });

  it('finds one changed row, one deleted and one inserted among 10,000, by key', async () => {
    const sub = table(10_000);
    sub.set(4321, 'changed');
    sub.delete(77);
    sub.set(20_000, 'extra');
    const result = await drillTable(reader(table(10_000), sub), options);
    expect(result.status).toBe('differs');
    expect(result.differences).toEqual(
      expect.arrayContaining([
        { key: { id: '4321' }, kind: 'differs', columns: ['value'] },
        { key: { id: '77' }, kind: 'missing-on-subscriber' },
        { key: { id: '20000' }, kind: 'missing-on-publisher' },
      ]),
    );
    expect(result.differences).toHaveLength(3);
    // Only the differing branches are split: far fewer hashes than rows / rowLevelAt.
    expect(result.chunks).toBeLessThan(60);
  });

  it('does not report a write still in flight, but reports a real difference under live writes', async () => {
    const pub = table(5_000);
    const sub = table(5_000);
    sub.set(123, 'corrupted'); // real: the publisher never changes row 123
    let n = 5_000;
    // Every read window, the publisher takes a new row and changes row 4000; the subscriber catches up one window later.
    const lagging: Array<[number, string]> = [];
    const between = () => {
      for (const [k, v] of lagging.splice(0)) sub.set(k, v);
      n++;
      pub.set(n, `v${n}`);
      pub.set(4000, `t${n}`);
      lagging.push([n, `v${n}`], [4000, `t${n}`]);
    };
    const result = await drillTable(reader(pub, sub, { replicating: true, between }), options);
    expect(result.differences).toEqual([{ key: { id: '123' }, kind: 'differs', columns: ['value'] }]);
    expect(result.status).toBe('differs');
  });

  it('writes that settle are ok; a row that never holds still is in flight, never a difference', async () => {
    const settling = table(500);
    const settlingSub = table(500);
    let n = 500;
    const catchUp = () => {
      n++;
      settling.set(n, `v${n}`);
      settlingSub.set(n - 1, `v${n - 1}`);
    };
    expect(await drillTable(reader(settling, settlingSub, { replicating: true, between: catchUp }), options)).toMatchObject({ status: 'ok', differences: [] });

    const pub = table(500);
    const sub = table(500);
    // Row 250 changes every window; the subscriber is always two changes behind on it.
    pub.set(250, 't0');
    sub.set(250, 't-2');
    const queue = ['t-1', 't0'];
    let t = 0;
    const hot = () => {
      t++;
      pub.set(250, `t${t}`);
      queue.push(`t${t}`);
      sub.set(250, queue.shift()!);
    };
    const result = await drillTable(reader(pub, sub, { replicating: true, between: hot }), options);
    expect(result.differences).toEqual([]);
    expect(result).toMatchObject({ status: 'in-flight', unsettled: 1 });
  });

  it('diffRows tells a moving row from a real one', () => {
    const k = (i: number) => JSON.stringify([String(i)]);
    expect(
      diffRows({ publisher: new Map([[k(1), 'a'], [k(2), 'b']]), subscriber: new Map([[k(1), 'x'], [k(2), 'y']]), publisherAgain: new Map([[k(1), 'a'], [k(2), 'c']]) }),
    ).toEqual({ real: [k(1)], moving: [k(2)] });
  });

  it('multiset verdict and column planning', () => {
    expect(multisetVerdict({ publisher: { count: 3, hash: '1' }, subscriber: { count: 4, hash: '2' } })).toBe('differs');
    expect(multisetVerdict({ publisher: { count: 3, hash: '1' }, subscriber: { count: 4, hash: '2' }, publisherAgain: { count: 5, hash: '3' } })).toBe('in-flight');
    const plan = planColumns(
      [{ name: 'id', type: 'bigint' }, { name: 'qty', type: 'integer' }, { name: 'old', type: 'text' }],
      [{ name: 'id', type: 'bigint' }, { name: 'qty', type: 'bigint' }, { name: 'leverage', type: 'numeric' }],
      'blue',
      'green',
    );
    expect(plan.compared).toEqual([{ name: 'id', type: 'bigint' }]);
    expect(plan.excluded).toEqual([
      { name: 'qty', reason: 'type differs (integer on blue, bigint on green)' },
      { name: 'old', reason: 'only on blue' },
      { name: 'leverage', reason: 'only on green (added by a migration?)' },
    ]);
  });
});
