/** Compare's reasons and warnings, pure: what the DDL log proves, what blue shares, column order. */
import { describe, expect, it } from 'vitest';
import { type IntegrityFinding, invalidIndexesOnlyOnBlue, verdict, weighAgainstBlue } from '../../src/core/compare-model.js';

describe('integrity weighed against blue', () => {
  const finding = (check: IntegrityFinding['check'], object: string, identity: string): IntegrityFinding => ({ check, object, detail: 'd', severity: 'fail', identity });
  it('makes what blue has identically a warning, and keeps what green has alone a failure', () => {
    const green = [finding('invalid-constraint', 'public.t.c', 'public.t CHECK (x > 0) NOT VALID'), finding('sequence-behind', 'public.s', 'public.t.id at 1 reaches 3')];
    const blue = [finding('invalid-constraint', 'public.t.c_renamed', 'public.t CHECK (x > 0) NOT VALID'), finding('sequence-behind', 'public.s', 'public.t.id at 3 reaches 3')];
    const weighed = weighAgainstBlue(green, blue);
    expect(weighed[0]).toMatchObject({ severity: 'warn', alsoOnBlue: true, detail: expect.stringContaining('also on blue') });
    expect(weighed[1]).toEqual(green[1]);
    const none = { expected: [], unexpected: [] };
    expect(verdict([], none, weighed)).toBe(false);
    expect(verdict([], none, weighed.slice(0, 1))).toBe(true);
  });
  it('names blue\'s invalid indexes that green lacks as warnings, and nothing green has', () => {
    const blue = [finding('invalid-index', 'public.tags_label_key', 'CREATE UNIQUE INDEX ON public.tags USING btree (label)'), finding('invalid-index', 'public.kept', 'CREATE INDEX ON ONLY public.f USING btree (q)')];
    const left = invalidIndexesOnlyOnBlue(blue, new Set(['index public.kept']));
    expect([...left.keys]).toEqual(['index public.tags_label_key']);
    expect(left.findings).toEqual([expect.objectContaining({ check: 'invalid-index', object: 'public.tags_label_key', severity: 'warn', onlyOnBlue: true })]);
  });
});
