/**
 * The flip's sequences on real clusters: set on the target before the pause, then inside it only the
 * ones that moved, read by oid; a sequence created or dropped in between makes the pause read them all.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presyncSequences, readSequences, syncMovedSequences } from '../../src/adapters/catalog/sequences.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';

const HOSTILE = 'Weird "seq", with; spaces';

describe('sequences at the flip', () => {
  let sb: Sandbox;
  const clients: pg.Client[] = [];
  const connect = async (url: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    clients.push(c);
    return c;
  };
  const sessionState = async (observer: pg.Client, session: pg.Client) =>
    (await observer.query<{ state: string }>('SELECT state FROM pg_stat_activity WHERE pid = $1', [(session as unknown as { processID: number }).processID])).rows[0].state;
  const values = async (c: pg.Client) => new Map((await readSequences(c)).map((s) => [`${s.schema}.${s.name}`, s.lastValue]));

  beforeAll(async () => {
    sb = await startSandbox({ fast: true, createGreenDatabase: true });
    const schema = `CREATE SCHEMA "Tenant One";
      CREATE SEQUENCE "Tenant One"."${HOSTILE.replace(/"/g, '""')}";
      CREATE SEQUENCE hot START 100; CREATE SEQUENCE cold; CREATE SEQUENCE down INCREMENT -1; CREATE SEQUENCE never_called; CREATE SEQUENCE only_blue;
      CREATE TABLE t (id bigserial PRIMARY KEY)`;
    const blue = await connect(sb.blueUrl);
    await blue.query(schema);
    const green = await connect(sb.greenUrl);
    await green.query(schema.replace('CREATE SEQUENCE only_blue;', ''));
    await blue.query(`SELECT nextval('hot') FROM generate_series(1, 50); SELECT nextval('cold'); SELECT nextval('down') FROM generate_series(1, 5); SELECT nextval('"Tenant One"."${HOSTILE.replace(/"/g, '""')}"') FROM generate_series(1, 7);
      INSERT INTO t DEFAULT VALUES; INSERT INTO t DEFAULT VALUES; SELECT nextval('only_blue')`);
  });
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await sb?.stop();
  });

  it('sets the target before the pause and, inside it, only what moved since', async () => {
    const from = await connect(sb.blueUrl);
    const app = await connect(sb.blueUrl);
    const to = await connect(sb.greenUrl);
    const { plan, advanced } = await presyncSequences(from, to);
    expect(plan.holdsLocks).toBe(true);
    expect(await sessionState(app, from)).toBe('idle in transaction');
    // hot, cold, down, the hostile one and t's: behind on green; never_called has no value; only_blue is not on green.
    expect(advanced).toBe(5);
    expect(plan.sequences.map((s) => s.name).sort()).toEqual([HOSTILE, 'cold', 'down', 'hot', 'never_called', 't_id_seq'].sort());
    let green = await values(to);
    expect(green.get('public.hot')).toBe('149');
    expect(green.get(`Tenant One.${HOSTILE}`)).toBe('7');
    expect(green.get('public.never_called')).toBeNull();
    // Descending: "ahead" is lower.
    expect(green.get('public.down')).toBe('-5');

    // The application moves on before the freeze: two sequences move, one is called for the first time.
    // The read holds its sequences' locks meanwhile: nextval does not wait for them.
    await app.query(`SELECT nextval('hot') FROM generate_series(1, 5); SELECT nextval('never_called'); INSERT INTO t DEFAULT VALUES; SELECT nextval('down')`);
    const moved = await syncMovedSequences(from, to, plan);
    expect(moved).toEqual({ advanced: 4, fullRead: false });
    green = await values(to);
    expect(green.get('public.hot')).toBe('154');
    expect(green.get('public.never_called')).toBe('1');
    expect(green.get('public.t_id_seq')).toBe('3');
    expect(green.get('public.cold')).toBe('1');
    expect(green.get('public.down')).toBe('-6');

    // A new plan, nothing moved since: nothing to set inside the pause.
    const again = await presyncSequences(from, to);
    expect(again.advanced).toBe(0);
    expect(await syncMovedSequences(from, to, again.plan)).toEqual({ advanced: 0, fullRead: false });
  });

  it('reads every sequence inside the pause when one was created since the plan', async () => {
    const from = await connect(sb.blueUrl);
    const app = await connect(sb.blueUrl);
    const to = await connect(sb.greenUrl);
    const { plan } = await presyncSequences(from, to);
    // Made on both sides (as sync-schema would), moved on blue after the plan was taken: the plan does not know its oid.
    await app.query(`CREATE SEQUENCE late; SELECT nextval('late') FROM generate_series(1, 9)`);
    await to.query('CREATE SEQUENCE late');
    const moved = await syncMovedSequences(from, to, plan);
    expect(moved.fullRead).toBe(true);
    expect((await values(to)).get('public.late')).toBe('9');
  });

  it('a planned sequence cannot be dropped under the read: the DROP waits for it, then goes ahead', async () => {
    const from = await connect(sb.blueUrl);
    const app = await connect(sb.blueUrl);
    const to = await connect(sb.greenUrl);
    const { plan } = await presyncSequences(from, to);
    await app.query(`SELECT nextval('cold') FROM generate_series(1, 3)`);
    let dropped = false;
    const drop = app.query('DROP SEQUENCE never_called').then(() => void (dropped = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(dropped).toBe(false);
    expect(await syncMovedSequences(from, to, plan)).toEqual({ advanced: 1, fullRead: false });
    await drop;
    expect(dropped).toBe(true);
    expect((await values(to)).get('public.cold')).toBe((await values(app)).get('public.cold'));
  });

  it('over the lock budget: reads and sets in parts, holding no locks across the pause', async () => {
    const from = await connect(sb.blueUrl);
    const app = await connect(sb.blueUrl);
    const to = await connect(sb.greenUrl);
    await app.query(`SELECT nextval('hot') FROM generate_series(1, 20)`);
    const { plan, advanced } = await presyncSequences(from, to, { budget: 2 });
    expect(plan.holdsLocks).toBe(false);
    expect(advanced).toBe(1);
    expect(await sessionState(app, from)).toBe('idle');
    await app.query(`SELECT nextval('hot'); SELECT nextval('cold'); SELECT nextval('down') FROM generate_series(1, 5); SELECT nextval('"Tenant One"."${HOSTILE.replace(/"/g, '""')}"')`);
    expect(await syncMovedSequences(from, to, plan)).toEqual({ advanced: 4, fullRead: false });
    const [blue, green] = [await values(app), await values(to)];
    for (const key of ['public.hot', 'public.cold', 'public.down', `Tenant One.${HOSTILE}`]) expect(green.get(key)).toBe(blue.get(key));
  });

  it('a sequence busy while the plan is made is set ahead by its pace, so the pause finds nothing to set', async () => {
    const from = await connect(sb.blueUrl);
    const app = await connect(sb.blueUrl);
    const to = await connect(sb.greenUrl);
    // The application takes values from hot without a break while the plan is made.
    let running = true;
    let taken = 0;
    const busy = (async () => {
      while (running) {
        await app.query(`SELECT nextval('hot')`);
        taken++;
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    const { plan, movedAhead } = await presyncSequences(from, to, { horizonMs: 5000 });
    running = false;
    await busy;
    expect(taken).toBeGreaterThan(10);
    expect(movedAhead).toBeGreaterThanOrEqual(1);
    const blueHot = BigInt((await values(app)).get('public.hot')!);
    const greenHot = BigInt((await values(to)).get('public.hot')!);
    // Ahead of blue by a margin, not just equal to it.
    expect(greenHot).toBeGreaterThan(blueHot);
    expect(plan.sequences.find((s) => s.name === 'hot')!.threshold).toBe(greenHot.toString());
    // A few more values on blue stay within the margin: nothing to set inside the pause, and green is still ahead.
    await app.query(`SELECT nextval('hot')`);
    expect(await syncMovedSequences(from, to, plan)).toEqual({ advanced: 0, fullRead: false });
    expect(BigInt((await values(to)).get('public.hot')!)).toBeGreaterThan(BigInt((await values(app)).get('public.hot')!));
  });
});
