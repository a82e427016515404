/** Which schemas and objects are the application's: the filter every catalog read of its objects shares. */
import { GUARD_SCHEMA } from '../write-guard.js';

/** Schemas that are not the application's: system ones and ours (extension-owned objects are excluded separately). */
export const USER_NAMESPACE =
  `n.nspname NOT IN ('pg_catalog', 'information_schema', '${GUARD_SCHEMA}')` +
  ` AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'`;
export const NOT_EXTENSION = (oid: string) => `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = ${oid} AND d.deptype = 'e')`;
