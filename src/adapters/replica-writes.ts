/**
 * Writes to the standby side outside replication (sync-schema's copies by key, a table emptied for a
 * fresh table sync) made the way the apply worker makes its own, or refused where that is not allowed.
 */
import { BlueGreenError } from '../core/errors.js';
import type { Client } from './pg.js';
import { quoteQualified } from '../core/quote.js';
import { splitRaw, unquote } from '../core/window.js';

/**
 * This transaction writes `table` as the apply worker does: session_replication_role = replica, so the
 * table's own triggers and foreign-key actions stay quiet. Where that is refused (no superuser: Cloud
 * SQL, Neon, vanilla PostgreSQL), the write goes ahead only when nothing would fire that replica mode
 * keeps quiet: the table's own triggers (the tool's guard lets its installer through) and, for a
 * delete, foreign keys pointing at it. Otherwise it refuses, naming them: a copy that fires an audit
 * trigger or cascades a delete on the standby would change rows replication never sent.
 */
export async function writeAsReplica(client: Client, table: string, write: 'update' | 'delete'): Promise<void> {
  await client.query('SAVEPOINT bluegreen_replica_role');
  try {
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query('RELEASE SAVEPOINT bluegreen_replica_role');
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== '42501') throw error;
    await client.query('ROLLBACK TO SAVEPOINT bluegreen_replica_role');
  }
  const { rows } = await client.query<{ what: string }>(
    `SELECT format('trigger %I', tgname) AS what FROM pg_trigger
      WHERE tgrelid = $1::regclass AND NOT tgisinternal AND tgenabled = 'O' AND tgname NOT LIKE 'bluegreen\\_%'
     UNION ALL
     SELECT format('foreign key %I on %s', conname, conrelid::regclass) FROM pg_constraint
      WHERE $2 AND contype = 'f' AND confrelid = $1::regclass
     ORDER BY 1`,
    [quoteQualified(...(splitRaw(table).map(unquote) as [string, string])), write === 'delete'],
  );
  if (!rows.length) return;
  const what = rows.map((r) => r.what).join(', ');
  const refused = 'SET session_replication_role is refused to this role';
  const message = `cannot write ${table} on the standby as replication does: ${refused}, and without it ${what} would act on the copy`;
  throw new BlueGreenError(message, {
    hint:
      'Run as a role allowed SET session_replication_role (Amazon RDS and Supabase give it to the admin), ' +
      'or disable those triggers on the standby for the copy (ALTER TABLE … DISABLE TRIGGER …, ENABLE after) ' +
      'and run sync-schema again.',
  });
}
