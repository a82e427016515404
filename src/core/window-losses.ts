/**
 * What the serving side took away or changed since it started serving: logical replication cannot
 * carry it, so a flip to the standby would lose it (or replication would stop). The one exception, a
 * partition dropped by retention, is detached on the standby and kept there with its rows.
 */
import { enumLabels } from './schema-diff.js';
import { indexTable, isUnique, type Kind, parseColumn, parseKey, parseTableDef, tableOf } from './snapshot-keys.js';
import type { WindowFindings, WindowSides } from './window-sides.js';

/** One snapshot key whose definition changed: before (at the baseline), now, and on the standby. */
interface Change {
  readonly key: string;
  readonly name: string;
  readonly before: string;
  readonly now: string | undefined;
  readonly standby: string | undefined;
}

function tableChanged(w: WindowSides, c: Change, out: WindowFindings): void {
  const { key, name, before, now, standby } = c;
  const was = parseTableDef(before);
  const onStandby = standby === undefined ? undefined : parseTableDef(standby);
  if (now === undefined && was.partitionOf && onStandby?.partitionOf) {
    // pg_partman's retention: a partition dropped on the serving side leaves the root's rows without it.
    out.carry.push({ kind: 'detach', table: name, parent: onStandby.partitionOf.parent });
    out.notes.push(
      `partition ${name} was dropped on ${w.from}: it is detached on ${w.to} and kept there as a table with its rows ` +
        '(drop it when you no longer need them)',
    );
  } else if (now === undefined && standby !== undefined)
    out.losses.push({ object: key, what: `dropped on ${w.from}; ${w.to} still has it, with the rows it had then` });
  else if (now !== undefined && parseTableDef(now).core !== was.core)
    out.losses.push({ object: key, what: `changed on ${w.from} (${before} → ${now}): logical replication cannot follow it` });
}

function columnChanged(w: WindowSides, c: Change, out: WindowFindings): void {
  const { key, name, before, now, standby } = c;
  const { from, to } = w;
  if (!w.tablesFrom.has(tableOf(name))) return; // the table's own loss says it
  if (w.isPartition(tableOf(name))) return; // a partition's columns are its root's
  if (now === undefined) {
    if (standby !== undefined) {
      const stops =
        parseColumn(standby).notNull && !standby.includes(' default ')
          ? ' (NOT NULL without a default: replication into ' + to + ' stops at the first such row)'
          : '';
      out.losses.push({
        object: key,
        what: `dropped on ${from}: ${to} keeps the column, and rows ${from} writes from now on have no value for it there${stops}`,
      });
    }
    return;
  }
  const b = parseColumn(before);
  const n = parseColumn(now);
  if (b.type !== n.type && standby !== undefined && parseColumn(standby).type !== n.type) {
    out.losses.push({
      object: key,
      what: `type changed on ${from} (${b.type} → ${n.type}); ${to} has ${parseColumn(standby).type}: values ${from} writes may not fit`,
    });
  } else if (b.notNull && !n.notNull && standby !== undefined && parseColumn(standby).notNull) {
    out.losses.push({
      object: key,
      what: `NOT NULL dropped on ${from} but ${to} still enforces it: the first NULL ${from} writes stops replication`,
    });
  }
}

function constraintChanged(w: WindowSides, c: Change, out: WindowFindings): void {
  const { key, name, now, standby } = c;
  if (!w.tablesFrom.has(tableOf(name))) return;
  if (standby !== undefined && standby !== now && !standby.startsWith('FOREIGN KEY')) {
    out.losses.push({
      object: key,
      what:
        `${now === undefined ? 'dropped' : 'changed'} on ${w.from} but ${w.to} still enforces "${standby}": ` +
        `rows ${w.from} now accepts may stop replication`,
    });
  }
}

function indexDropped(w: WindowSides, c: Change, out: WindowFindings): void {
  const { key, now, standby } = c;
  if (now === undefined && isUnique(standby) && w.tablesFrom.has(indexTable(standby!) ?? '')) {
    out.losses.push({
      object: key,
      what: `unique index dropped on ${w.from} but ${w.to} still has it: a duplicate ${w.from} now accepts stops replication`,
    });
  }
}

function enumChanged(w: WindowSides, c: Change, out: WindowFindings): void {
  const { key, before, now } = c;
  const gone = enumLabels(before).filter((l) => now === undefined || !enumLabels(now).includes(l));
  if (now === undefined || !gone.length) return;
  const many = gone.length > 1;
  out.losses.push({
    object: key,
    what:
      `value${many ? 's' : ''} ${gone.map((l) => `'${l}'`).join(', ')} renamed or removed on ${w.from}: ` +
      `${w.to} cannot take the new one${many ? 's' : ''} for rows that had ${many ? 'them' : 'it'}`,
  });
}

const BY_KIND: Partial<Record<Kind, (w: WindowSides, c: Change, out: WindowFindings) => void>> = {
  table: tableChanged,
  column: columnChanged,
  constraint: constraintChanged,
  index: indexDropped,
  enum: enumChanged,
};

/** Each object whose definition changed on the serving side since it started serving, in snapshot order. */
export function changesSinceServing(w: WindowSides, out: WindowFindings): void {
  for (const [key, before] of Object.entries(w.baseline)) {
    const p = parseKey(key);
    if (!p) continue;
    const now = w.fromNow[key];
    if (now === before) continue;
    BY_KIND[p.kind]?.(w, { key, name: p.name, before, now, standby: w.toNow[key] }, out);
  }
}
