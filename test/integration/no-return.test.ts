/**
 * The point of no return. Before RESUME a flip's steps are undone in reverse; once RESUME has begun,
 * clients may have written to the new side, so a failure there is not undone (that would throw their
 * writes away): the flip stops, says so, and `resume` finishes it. And no message says "nothing was
 * lost" when one of the undo steps failed: that is the headline. Driven by a command pointer whose
 * scripts fail on cue. Durable clusters.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { _clone } from '../../src/commands/clone.js';
import { createDeps, type Deps } from '../../src/commands/context.js';
import { _resume } from '../../src/commands/resume.js';
import { _status } from '../../src/commands/status.js';
import { _rollback, _switchover } from '../../src/commands/switchover.js';
import { silentProgress } from '../../src/adapters/progress.js';
import { seedTradingApp } from '../../src/sandbox/trading-app.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { startStoppedCluster, stopCluster } from '../../src/sandbox/cluster.js';
import { sql } from './helpers.js';

describe('the point of no return, and undo failures told first', () => {
  let sandbox: Sandbox;
  let dir: string;
  let deps: Deps;
  const flag = (name: string, on: boolean) => (on ? writeFileSync(path.join(dir, name), '') : existsSync(path.join(dir, name)) && rmSync(path.join(dir, name)));
  const target = () => readFileSync(path.join(dir, 'target'), 'utf8').trim();

  beforeAll(async () => {
    sandbox = await startSandbox({ fast: false });
    await seedTradingApp(sandbox.blueUrl, 0.1, sandbox.appUser);
    dir = path.join(sandbox.dir, 'controller');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'target'), `127.0.0.1:${sandbox.blue.port}/app\n`);
    // current: what the switch reports; "lagging" makes it report an old address (a DNS cache, a proxy slow to reload).
    writeFileSync(path.join(dir, 'current.sh'), '#!/bin/sh\n[ -e unreadable ] && { echo "switch API down" >&2; exit 2; }\nif [ -e lagging ]; then echo 127.0.0.1:1/app; else cat target; fi\n', { mode: 0o755 });
    // flip: "refuse-<side>" fails it; "moved-then-fail" moves traffic and still exits 1; "lag-after" arms "lagging".
    writeFileSync(path.join(dir, 'flip.sh'), [
      '#!/bin/sh',
      '[ -e "refuse-$BLUEGREEN_TARGET" ] && { echo "switch refused for $BLUEGREEN_TARGET" >&2; exit 4; }',
      'echo "$BLUEGREEN_TARGET_HOST:$BLUEGREEN_TARGET_PORT/$BLUEGREEN_TARGET_DATABASE" > target',
      '[ -e lag-after ] && touch lagging',
      '[ -e unreadable-after ] && touch unreadable',
      '[ -e moved-then-fail ] && { rm moved-then-fail; echo "switch timed out" >&2; exit 5; }',
      'exit 0',
    ].join('\n'), { mode: 0o755 });
    const json = { blue: sandbox.blueUrl, green: sandbox.greenUrl, mode: 'replicate', pointer: { type: 'command', current: './current.sh', flip: './flip.sh', timeoutMs: 5000 }, switchover: { timeoutMs: 20000 } };
    const file = path.join(dir, 'bluegreen.config.json');
    writeFileSync(file, JSON.stringify(json));
    deps = createDeps(parseConfig(JSON.stringify(json), file, {}), silentProgress);
    expect((await _clone(deps)).error).toBeUndefined();
  });
  afterAll(() => sandbox?.stop());

  it('an undo that fails with the pointer unreadable is the headline, never "nothing was lost"; resume then goes by what the pointer says', async () => {
    flag('moved-then-fail', true);
    flag('refuse-blue', true);
    flag('unreadable-after', true);
    const result = await _switchover(deps);
    flag('unreadable-after', false);
    expect(result.ok).toBe(false);
    expect(result.error?.message).toMatch(/^switchover failed at flip and 1 of its undo steps FAILED:\n {2}pointer back to blue: FAILED \(pointer\.flip failed \(exit 4\): switch refused for blue\)/);
    expect(result.error?.message).not.toMatch(/nothing was lost/);
    expect(result.error?.hint).toMatch(/Run `bluegreen resume`/);
    flag('unreadable', false);
    flag('refuse-blue', false);
    expect((await _status(deps)).phase).toBe('switching-over');
    // The switch did move traffic: resume sees green in the pointer and finishes forward, the reverse slot intact.
    expect(target()).toBe(`127.0.0.1:${sandbox.green.port}/app`);
    const resumed = await _resume(deps);
    expect(resumed).toMatchObject({ ok: true, outcome: 'finished', phase: 'switched-over', serving: 'green' });
    await sql(sandbox.greenUrl, `INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'AFTER-RESUME', 'buy', 1)`);
    expect((await _rollback(deps)).error).toBeUndefined();
    expect(await sql(sandbox.blueUrl, `SELECT symbol FROM orders WHERE symbol = 'AFTER-RESUME'`)).toEqual([{ symbol: 'AFTER-RESUME' }]);
  });

  it('an undo that cannot bring traffic back while the pointer reads green finishes the flip forward instead', async () => {
    flag('moved-then-fail', true);
    flag('refuse-blue', true);
    const result = await _switchover(deps);
    flag('refuse-blue', false);
    expect(result.ok).toBe(false);
    expect(result.serving).toBe('green');
    expect(result.error?.code).toBe('finished-forward');
    expect(result.error?.message).toMatch(/^switchover failed at flip \(pointer\.flip failed \(exit 5\): switch timed out\) and the undo could not bring traffic back .*finished forward instead of undone/);
    expect((await _status(deps)).phase).toBe('switched-over');
    await sql(sandbox.greenUrl, `INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'FORWARD', 'buy', 1)`);
    expect((await _rollback(deps)).error).toBeUndefined();
    expect(await sql(sandbox.blueUrl, `SELECT symbol FROM orders WHERE symbol = 'FORWARD'`)).toEqual([{ symbol: 'FORWARD' }]);
  });

  it('blue crashing right after RESUME: the flip is done and says so; resume finishes retiring and subscribing', async () => {
    let stopped: Promise<void> | undefined;
    const progress = { ...silentProgress, start: (text: string) => { if (text.startsWith('Retiring replication')) stopped = stopCluster(sandbox.blue, sandbox.user, 'immediate'); } };
    const result = await _switchover({ ...deps, progress });
    await stopped;
    expect(result.serving).toBe('green');
    expect(result.error?.message).toMatch(/^switchover done, green serves; but stop-forward failed/);
    expect(result.error?.hint).toMatch(/run `bluegreen resume`: it finishes these steps/);
    await startStoppedCluster(sandbox.blue, sandbox.user);
    expect(await _resume(deps)).toMatchObject({ ok: true, outcome: 'finished', phase: 'switched-over' });
    // Replication green → blue runs now: a write on green reaches blue, and the rollback is lossless.
    await sql(sandbox.greenUrl, `INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'AFTER-CRASH', 'buy', 1)`);
    expect((await _rollback(deps)).error).toBeUndefined();
    expect(await sql(sandbox.blueUrl, `SELECT symbol FROM orders WHERE symbol = 'AFTER-CRASH'`)).toEqual([{ symbol: 'AFTER-CRASH' }]);
  });

  it('a failure once RESUME has begun is not undone: the flip stops, says traffic may be on green, and resume finishes it', async () => {
    flag('lag-after', true);
    const result = await _switchover(deps);
    flag('lag-after', false);
    expect(result.ok).toBe(false);
    expect(result.serving).toBe('green');
    expect(result.error?.message).toMatch(/^switchover stopped after resume began: pointer\.current says 127\.0\.0\.1:1\/app after the flip/);
    expect(result.error?.message).toMatch(/nothing was undone/);
    expect(result.error?.message).not.toMatch(/nothing was lost/);
    expect(result.steps.find((s) => s.name === 'resume')?.status).toBe('failed');
    // Green was opened and stays open: a client that reached it keeps its write.
    await sql(sandbox.greenUrl, `INSERT INTO orders (account_id, symbol, side, quantity) VALUES (1, 'PAST-NO-RETURN', 'buy', 1)`);
    expect((await _status(deps)).phase).toBe('switching-over');
    flag('lagging', false);
    const resumed = await _resume(deps);
    expect(resumed).toMatchObject({ ok: true, outcome: 'finished', phase: 'switched-over', serving: 'green' });
    expect((await _rollback(deps)).error).toBeUndefined();
    expect(await sql(sandbox.blueUrl, `SELECT symbol FROM orders WHERE symbol = 'PAST-NO-RETURN'`)).toEqual([{ symbol: 'PAST-NO-RETURN' }]);
  });
});
