/** Database-level setting values as pg_db_role_setting stores them. */

/** Splits a stored list value (`app, "My Schema"`) into its elements, as PostgreSQL's SplitIdentifierString does. */
export function splitSettingList(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (value[i] === ' ' || value[i] === ',') i++;
    if (i >= value.length) break;
    if (value[i] === '"') {
      let item = '';
      i++;
      while (i < value.length) {
        if (value[i] === '"' && value[i + 1] === '"') ((item += '"'), (i += 2));
        else if (value[i] === '"') break;
        else item += value[i++];
      }
      i++;
      out.push(item);
    } else {
      const end = value.indexOf(',', i);
      out.push(value.slice(i, end === -1 ? undefined : end).trim());
      i = end === -1 ? value.length : end;
    }
  }
  return out;
}
