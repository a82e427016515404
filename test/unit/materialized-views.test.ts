import { describe, expect, it } from 'vitest';
import { refreshPlan } from '../../src/core/materialized-views.js';

describe('the materialized views refresh plan', () => {
  it('fills each view after the views it reads, whatever their names', () => {
    const plan = refreshPlan([
      { key: 'a top', populated: true, reads: ['z base', 'm middle'] },
      { key: 'm middle', populated: true, reads: ['z base'] },
      { key: 'z base', populated: true, reads: [] },
    ]);
    expect(plan).toEqual({ refresh: ['z base', 'm middle', 'a top'], leftEmpty: [] });
  });

  it('leaves unpopulated a view not populated where it comes from, and every view reading it', () => {
    const plan = refreshPlan([
      { key: 'a', populated: true, reads: ['b'] },
      { key: 'b', populated: false, reads: ['c'] },
      { key: 'c', populated: true, reads: ['elsewhere'] },
      { key: 'd', populated: false, reads: [] },
    ]);
    expect(plan).toEqual({ refresh: ['c'], leftEmpty: ['b', 'a', 'd'] });
  });
});
