import { describe, expect, it } from 'vitest';
import { normaliseViewDefinition } from '../../src/core/view-definition.js';

describe('a view definition in one form for every major', () => {
  it('takes the relation off the columns of a query over one relation, as 16 and later deparse it', () => {
    // What pg_get_viewdef printed for the zoo's materialized views on 15 and on 16, 17, 18.
    const pairs = [
      ['SELECT "Events".customer_id, count(*) AS n FROM "Zoo ""ä"". x"."Events" GROUP BY "Events".customer_id;', 'SELECT customer_id, count(*) AS n FROM "Zoo ""ä"". x"."Events" GROUP BY customer_id;'],
      ['SELECT "mid view".customer_id, "mid view".n, "mid view".email FROM "Zoo ""ä"". x"."mid view";', 'SELECT customer_id, n, email FROM "Zoo ""ä"". x"."mid view";'],
      ['SELECT count(*) AS customers, sum("mid view".n) AS events FROM "Zoo ""ä"". x"."mid view";', 'SELECT count(*) AS customers, sum(n) AS events FROM "Zoo ""ä"". x"."mid view";'],
      ['SELECT t.a FROM public.t WHERE (t.a > 1);', 'SELECT a FROM public.t WHERE (a > 1);'],
    ];
    for (const [fifteen, sixteen] of pairs) {
      expect(normaliseViewDefinition(fifteen)).toBe(sixteen);
      expect(normaliseViewDefinition(sixteen)).toBe(sixteen);
    }
  });

  it('leaves a join, and a name that only ends like the relation, as they are', () => {
    const join = 'SELECT b.customer_id, c.email FROM (s.b JOIN s.c ON ((c.id = b.customer_id)));';
    expect(normaliseViewDefinition(join)).toBe(join);
    expect(normaliseViewDefinition('SELECT xt.a, t.b FROM public.t;')).toBe('SELECT xt.a, b FROM public.t;');
  });
});
