import { describe, expect, it } from 'vitest';
import { aheadOf, furthest, isPast } from '../../src/core/sequences.js';

const up = { increment: '1', min: '1', max: '9223372036854775807', cycle: false };
const down = { increment: '-1', min: '-9223372036854775808', max: '-1', cycle: false };

describe('sequence arithmetic', () => {
  it('knows which value is further along, in the sequence\'s direction', () => {
    expect(isPast('10', '9', '1')).toBe(true);
    expect(isPast('9', '10', '1')).toBe(false);
    expect(isPast('-10', '-9', '-1')).toBe(true);
    expect(isPast('-9', '-10', '-1')).toBe(false);
    expect(isPast('5', null, '1')).toBe(true);
    expect(isPast(null, '5', '1')).toBe(false);
    expect(isPast('5', '5', '1')).toBe(false);
    expect(furthest('-3', '-7', '-1')).toBe('-7');
    expect(furthest('3', '7', '2')).toBe('7');
    // Beyond a double's precision.
    expect(isPast('9007199254740993', '9007199254740992', '1')).toBe(true);
  });

  it('moves a busy sequence ahead by what it takes in the horizon, at the pace it was seen moving', () => {
    // 10 values in 20 ms: 500 in a second.
    expect(aheadOf('100', '110', 20, up, 1000)).toBe('610');
    // Not moving: left where it is.
    expect(aheadOf('110', '110', 20, up, 1000)).toBe('110');
    // Never called: left.
    expect(aheadOf(null, null, 20, up, 1000)).toBeNull();
    // Slower than the horizon: at least one more of what it moved.
    expect(aheadOf('100', '101', 5000, up, 1000)).toBe('102');
  });

  it('descending sequences move down; steps stay whole increments; bounds are never passed; cycling ones are left', () => {
    expect(aheadOf('-100', '-110', 20, down, 1000)).toBe('-610');
    // Step 10 from 3: values stay congruent to 3 mod 10.
    const byTen = { increment: '10', min: '3', max: '100000', cycle: false };
    const next = aheadOf('33', '53', 100, byTen, 1000)!;
    expect(BigInt(next) % 10n).toBe(3n);
    expect(next).toBe('253');
    // Near the maximum: stops at the last whole step below it.
    expect(aheadOf('90', '95', 10, { increment: '1', min: '1', max: '100', cycle: false }, 1000)).toBe('100');
    expect(aheadOf('83', '93', 10, { increment: '10', min: '3', max: '100', cycle: false }, 1000)).toBe('93');
    expect(aheadOf('-90', '-95', 10, { increment: '-1', min: '-100', max: '-1', cycle: false }, 1000)).toBe('-100');
    expect(aheadOf('1', '50', 10, { ...up, cycle: true }, 1000)).toBe('50');
  });
});
