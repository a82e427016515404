/** The one verdict on the next flip: a lost slot or an unknown reading is never lossless, everywhere it is read. */
import { describe, expect, it } from 'vitest';
import { lostSlotAdvice, lostSlotHint, lostSlotRefusal, slotGone } from '../../src/core/lost-slot.js';
import { describeVerdict, judgeWindow, verdictLosses } from '../../src/core/window-verdict.js';
import { planAction } from '../../src/core/guard.js';
import { toPrometheus } from '../../src/core/prometheus.js';
import { parsePrometheus } from '../support/prometheus.js';

const rollback = { next: 'rollback' as const, direction: 'green → blue' };
const switchover = { next: 'switchover' as const, direction: 'blue → green' };
const dropped = { object: 'column public.users.nickname', what: 'dropped on green' };

describe('the slot keeping the standby current', () => {
  it('is gone when invalidated or missing; unknown or reserved is not gone', () => {
    expect(slotGone({ exists: true, walStatus: 'lost' })).toBe('lost');
    expect(slotGone({ exists: false })).toBe('missing');
    expect(slotGone({ exists: true, walStatus: 'unreserved' })).toBeUndefined();
    expect(slotGone({ exists: true, walStatus: 'reserved' })).toBeUndefined();
    expect(slotGone({ error: 'connection refused' })).toBeUndefined();
    expect(slotGone(undefined)).toBeUndefined();
  });
  it('a missing slot says so, not that it passed max_slot_wal_keep_size', () => {
    const text = lostSlotRefusal('green → blue', 'rollback', 'missing');
    expect(text).toMatch(/^The rollback is no longer lossless: replication green → blue lost its slot/);
    expect(text).not.toMatch(/max_slot_wal_keep_size/);
    expect(text).toMatch(/`bluegreen reseed`/);
  });
  it("the hint after a refusal names the way out, never a retry or replication that keeps running", () => {
    expect(lostSlotHint({ from: 'green', to: 'blue', direction: 'rollback' })).toMatch(/`bluegreen reseed`.*then `bluegreen rollback`/);
    expect(lostSlotHint({ from: 'blue', to: 'green', direction: 'switchover' })).toMatch(/clone again/);
    expect(lostSlotHint({ from: 'green', to: 'blue', direction: 'rollback' })).not.toMatch(/keeps running|Retry/);
  });
  it("status's advice is led by the refusal only when the slot is lost", () => {
    expect(lostSlotAdvice({ direction: 'green → blue', walStatus: 'lost' }, 'green', 'Watch.')).toMatch(/^The rollback is no longer lossless: .* Watch\.$/);
    expect(lostSlotAdvice({ direction: 'green → blue', walStatus: 'reserved' }, 'green', 'Watch.')).toBe('Watch.');
    // Past max_slot_wal_keep_size but not yet invalidated: warned before it is too late, the verdict unchanged.
    expect(lostSlotAdvice({ direction: 'green → blue', walStatus: 'unreserved' }, 'green', 'Watch.')).toMatch(
      /^WARNING: replication green → blue holds more WAL than max_slot_wal_keep_size allows on green \(wal_status unreserved\): the next checkpoint may invalidate its slot, and then the rollback is no longer lossless\. Let blue catch up .* Watch\.$/,
    );
    expect(slotGone({ exists: true, walStatus: 'unreserved' })).toBeUndefined();
  });
});

describe('judgeWindow', () => {
  it('lossless only when the schema loses nothing and the slot has its WAL', () => {
    expect(judgeWindow({ ...rollback, slot: { exists: true, walStatus: 'reserved' }, losses: [] })).toEqual({ verdict: 'lossless', notes: [] });
    expect(judgeWindow({ ...rollback, slot: { exists: true, walStatus: 'extended' }, losses: [dropped] }).verdict).toBe('lossy');
  });
  it('a lost slot: lossy with the refusal as the reason, whatever the schema says', () => {
    const j = judgeWindow({ ...rollback, slot: { exists: true, walStatus: 'lost' }, losses: [] });
    expect(j.verdict).toBe('lossy');
    expect(j.reason).toBe(lostSlotRefusal('green → blue', 'rollback'));
    expect(j.error).toBeUndefined();
  });
  it('before the switchover: the forward slot lost says "Clone again"', () => {
    const j = judgeWindow({ ...switchover, slot: { exists: true, walStatus: 'lost' }, losses: [] });
    expect(j).toMatchObject({ verdict: 'lossy', reason: expect.stringMatching(/^The switchover is no longer lossless: .*Clone again/) });
  });
  it('a slot missing while the record has the link is not lossless either', () => {
    expect(judgeWindow({ ...rollback, slot: { exists: false }, losses: [] })).toMatchObject({
      verdict: 'lossy',
      reason: lostSlotRefusal('green → blue', 'rollback', 'missing'),
    });
  });
  it('a lost slot read while the standby is down: still lossy, the schema unknown only as a note', () => {
    const j = judgeWindow({ ...rollback, slot: { exists: true, walStatus: 'lost' }, losses: [], error: 'could not be judged: connection refused' });
    expect(j).toMatchObject({ verdict: 'lossy', notes: ['the schema could not be judged: connection refused'] });
    expect(j.error).toBeUndefined();
  });
  it('a reading that failed is unknown, never lossless', () => {
    expect(judgeWindow({ ...rollback, slot: { error: 'connection refused' }, losses: [], error: 'could not be judged: connection refused' })).toMatchObject({
      verdict: 'unknown',
      error: 'could not be judged: connection refused',
    });
    expect(judgeWindow({ ...rollback, slot: { exists: true, walStatus: 'reserved' }, losses: [], error: 'could not be judged: timeout' }).verdict).toBe('unknown');
    // Freeze mode: no slot, the counters could not be read.
    expect(judgeWindow({ ...rollback, losses: [], error: 'could not be judged: timeout' }).verdict).toBe('unknown');
  });
});

describe("the verdict's readers", () => {
  const lost = { ...judgeWindow({ ...rollback, slot: { exists: true, walStatus: 'lost' }, losses: [] }), losses: [], pending: [] };
  it("flip --dry-run: WOULD LOSE with the reason, not \"lossless\"", () => {
    expect(describeVerdict(lost)).toBe(`WOULD LOSE: ${lost.reason}`);
    expect(describeVerdict({ ...lost, losses: [dropped] })).toMatch(/^WOULD LOSE: The rollback is no longer lossless: .* Also: column public\.users\.nickname \(dropped on green\); refused unless --accept-data-loss$/);
    expect(describeVerdict({ verdict: 'lossless', losses: [], pending: [] })).toBe('lossless');
    expect(describeVerdict({ verdict: 'unknown', error: 'could not be judged: x', losses: [], pending: [] })).toBe('whether it would lose anything: could not be judged: x');
  });
  it('the losses listed: the reason first', () => {
    expect(verdictLosses({ ...lost, losses: [dropped] })).toEqual([lost.reason, 'column public.users.nickname: dropped on green']);
  });
  it('Prometheus: 0 and the replication-lost gauge for a lost slot; no lossless figure when unknown', () => {
    const one = (window: { verdict: string; reason?: string; error?: string }, name: string) =>
      parsePrometheus(toPrometheus({ phase: 'switched-over', serving: 'green', replication: [], window })).find((s) => s.name === name)?.value;
    expect(one(lost, 'bluegreen_next_flip_lossless')).toBe(0);
    expect(one(lost, 'bluegreen_next_flip_replication_lost')).toBe(1);
    expect(one({ verdict: 'lossless' }, 'bluegreen_next_flip_lossless')).toBe(1);
    expect(one({ verdict: 'lossless' }, 'bluegreen_next_flip_replication_lost')).toBe(0);
    expect(one({ verdict: 'unknown', error: 'could not be judged: x' }, 'bluegreen_next_flip_lossless')).toBeUndefined();
  });
  it('the guard refuses a rollback a lost slot refuses, even with allowDataLoss, even as a dry run', () => {
    const holds = { holds: true, failures: 3, description: 'api failed 3 times in a row' };
    const base = { condition: holds, anyFailing: true, lossless: false, losses: verdictLosses(lost), refusal: lost.reason, allowDataLoss: true };
    expect(planAction({ ...base, dryRun: true })).toMatchObject({ act: false, decision: 'refused', detail: expect.stringContaining('no longer lossless') });
    expect(planAction({ ...base, dryRun: false })).toMatchObject({ act: false, decision: 'refused' });
  });
});
