import { describe, expect, it } from 'vitest';
import { next, transition } from '../../src/core/phases.js';
import { TransitionNotAllowedError } from '../../src/core/errors.js';
import { advance, newCutover, windowLeftMs } from '../../src/core/state.js';

describe('phases', () => {
  it('walks a whole freeze-mode cutover', () => {
    let p = next('idle', 'clone-started', 'freeze');
    for (const e of ['clone-finished', 'migrate-started', 'migrate-finished', 'switchover-started', 'switchover-finished', 'rollback-started', 'rollback-finished'] as const) {
      p = next(p, e, 'freeze');
    }
    expect(p).toBe('rolled-back');
  });

  it('refuses a switchover before the clone, with advice', () => {
    expect(() => next('idle', 'switchover-started', 'freeze')).toThrow(TransitionNotAllowedError);
    try {
      next('idle', 'switchover-started', 'freeze');
    } catch (error) {
      expect((error as TransitionNotAllowedError).message).toBe('cannot switchover while the cutover is idle');
      expect((error as TransitionNotAllowedError).hint).toMatch(/bluegreen clone/);
    }
  });

  it('after a rollback, freeze mode needs a new clone while replicate mode may switch over again', () => {
    expect(transition('rolled-back', 'switchover-started', 'freeze')).toBeUndefined();
    expect(transition('rolled-back', 'switchover-started', 'replicate')).toBe('switching-over');
    expect(transition('rolled-back', 'clone-started', 'freeze')).toBe('cloning');
  });

  it('an aborted switchover returns to ready; a failed rollback leaves green serving', () => {
    expect(transition('switching-over', 'switchover-aborted', 'freeze')).toBe('ready');
    expect(transition('rolling-back', 'rollback-aborted', 'freeze')).toBe('switched-over');
  });

  it('never allows a new clone over a serving green', () => {
    expect(transition('switched-over', 'clone-started', 'freeze')).toBeUndefined();
  });

  it('records history and the window', () => {
    const s = advance(newCutover('c1', 'freeze', '2026-01-01T00:00:00Z', 'op@host'), 'clone-started', '2026-01-01T00:00:01Z', 'op@host');
    expect(s.phase).toBe('cloning');
    expect(s.history).toEqual([{ at: '2026-01-01T00:00:01Z', event: 'clone-started', phase: 'cloning', by: 'op@host' }]);
    expect(windowLeftMs({ ...s, rollbackWindowEndsAt: '2026-01-02T00:00:00Z' }, Date.parse('2026-01-01T23:00:00Z'))).toBe(3_600_000);
  });
});
