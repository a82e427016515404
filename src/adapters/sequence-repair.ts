/**
 * Sequences moved past the values their columns already hold. After green is lost in the window, blue
 * has the rows green wrote (those replicated back) but its sequences were never synced from green:
 * the next nextval would hand out an id a row already has.
 */
import { quoteIdent, quoteQualified } from '../core/quote.js';
import type { Client } from './pg.js';

/**
 * Every sequence a column uses, owned (serial, identity) or named in its default (nextval('s') without
 * OWNED BY, a sequence shared by several tables): set past the furthest value those columns hold.
 * Returns how many moved. A sequence only the application calls by name is left: nothing says which
 * values it handed out.
 */
export async function advanceSequencesPastColumns(client: Client): Promise<number> {
  const { rows } = await client.query<{
    seq: string;
    sschema: string;
    sname: string;
    tschema: string;
    tname: string;
    col: string;
    increment: string;
  }>(
    `WITH uses AS (
       SELECT d.objid AS seq, d.refobjid AS tbl, d.refobjsubid AS attnum FROM pg_depend d
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
       UNION
       SELECT d.refobjid, ad.adrelid, ad.adnum FROM pg_depend d JOIN pg_attrdef ad ON ad.oid = d.objid
        WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'n')
     SELECT format('%I.%I', sn.nspname, s.relname) AS seq, sn.nspname AS sschema, s.relname AS sname,
            tn.nspname AS tschema, t.relname AS tname, a.attname AS col, q.seqincrement::text AS increment
       FROM uses u JOIN pg_class s ON s.oid = u.seq AND s.relkind = 'S' JOIN pg_namespace sn ON sn.oid = s.relnamespace
       JOIN pg_sequence q ON q.seqrelid = s.oid
       JOIN pg_class t ON t.oid = u.tbl JOIN pg_namespace tn ON tn.oid = t.relnamespace
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = u.attnum
      WHERE t.relkind IN ('r', 'p') AND NOT t.relispartition`,
  );
  let moved = 0;
  for (const r of rows) {
    const ascending = BigInt(r.increment) > 0n;
    const extreme = (
      await client.query<{ v: string | null }>(
        `SELECT ${ascending ? 'max' : 'min'}(${quoteIdent(r.col)})::text AS v FROM ${quoteQualified(r.tschema, r.tname)}`,
      )
    ).rows[0]?.v;
    if (extreme === null || extreme === undefined) continue;
    const last = (
      await client.query<{ v: string | null; called: boolean }>(
        `SELECT last_value::text AS v, is_called AS called FROM ${quoteQualified(r.sschema, r.sname)}`,
      )
    ).rows[0];
    const behind = ascending ? BigInt(extreme) >= BigInt(last.v ?? '0') : BigInt(extreme) <= BigInt(last.v ?? '0');
    if (!behind) continue;
    await client.query('SELECT setval($1::regclass, $2::bigint, true)', [r.seq, extreme]);
    moved++;
  }
  return moved;
}
