/**
 * A clone that fails while blue is down cannot drop its slot there: the record keeps the slot's and
 * publication's names until they are really gone, and `abort` drops them once blue is back (a slot
 * forgotten on blue keeps WAL for ever). Fast clusters: no durability asserted.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _abort } from '../../src/commands/abort.js';
import { _clone } from '../../src/commands/clone.js';
import { silentProgress, type Progress } from '../../src/adapters/progress.js';
import { startStoppedCluster } from '../../src/sandbox/cluster.js';
import { type Rig, sql, startRig } from '../integration/helpers.js';

/**
 * Shuts a cluster down at once (SIGQUIT: PostgreSQL's immediate mode) and waits for it to be gone, without
 * yielding: called from the progress port, so the step that follows already finds the server down.
 */
function stopNow(dataDir: string): void {
  const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  process.kill(pid, 'SIGQUIT');
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > until) throw new Error(`postmaster ${pid} did not stop`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

describe('a clone that cannot drop its slot', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ config: { mode: 'replicate' } });
  });
  afterAll(() => rig?.stop());

  it('keeps the names in the record; abort drops them once blue is back', async () => {
    // Blue goes down right after the slot exists (the next step reads blue's large objects).
    const progress: Progress = { ...silentProgress, start: (text) => { if (text.startsWith("Copying blue's large objects")) stopNow(rig.sandbox.blue.dataDir); } };
    const result = await _clone({ ...rig.deps, progress });
    expect(result.ok).toBe(false);
    expect(result.error?.message).toMatch(/^clone failed at copy-large-objects: cannot connect to blue/);
    const state = await rig.deps.store.load();
    expect(state?.phase).toBe('aborted');
    expect(state?.forward?.slot).toMatch(/^bluegreen_/);
    const { slot, publication } = state!.forward!;
    expect(result.error?.hint).toContain(`slot ${slot} and publication ${publication} on blue: cannot connect to blue`);
    expect(result.error?.hint).toContain('`bluegreen abort` drops them');

    await startStoppedCluster(rig.sandbox.blue, rig.sandbox.user);
    // The slot is still on blue, holding WAL: exactly what the record must not forget.
    expect(await sql(rig.sandbox.blueUrl, 'SELECT slot_name FROM pg_replication_slots')).toEqual([{ slot_name: slot }]);
    const abort = await _abort(rig.deps);
    expect(abort.error).toBeUndefined();
    expect(await sql(rig.sandbox.blueUrl, 'SELECT slot_name FROM pg_replication_slots UNION ALL SELECT pubname FROM pg_publication')).toEqual([]);
    expect((await rig.deps.store.load())?.forward).toBeUndefined();
    // And a new clone starts from there.
    expect((await _clone(rig.deps)).error).toBeUndefined();
  });
});
