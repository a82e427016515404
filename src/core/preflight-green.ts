/**
 * Preflight's findings on green against blue, read once both answer: a different server, a major version
 * at least blue's, an empty database, roles the application can still log in with, the extensions blue
 * uses, and collations that sort as blue's do.
 */
import type { CollationVersion, Finding, PreflightFacts } from './preflight-facts.js';

const REINDEX_AFTER_CLONE = 'After the clone, `bluegreen compare` lists the indexes to REINDEX on green (before the switchover).';

function distinctServers(f: PreflightFacts): Finding[] {
  if (!(f.blue.systemId && f.blue.systemId === f.green.systemId && f.green.databaseExists)) return [];
  return [
    {
      check: 'distinct',
      status: 'block',
      message: 'blue and green are the same server',
      fix: 'Point green at a different PostgreSQL server.',
    },
  ];
}

function versions(f: PreflightFacts): Finding[] {
  const blue = f.blue.major;
  const green = f.green.major;
  if (blue === undefined || green === undefined) return [];
  if (green < blue) {
    return [
      {
        check: 'versions',
        status: 'block',
        message: `green runs PostgreSQL ${green}, older than blue's ${blue}`,
        fix: 'Green must run the same major version as blue or a newer one.',
      },
    ];
  }
  const message = green > blue ? `major upgrade ${blue} → ${green}` : `same major version (${blue})`;
  return [{ check: 'versions', status: 'ok', message }];
}

/** Green filled and not ours to re-create: why, and what to do. */
function greenNotEmpty(f: PreflightFacts, tables: number | undefined): Finding {
  const fix = f.greenHoldsGivenUp ?? 'Green must be empty: point green at an empty or missing database.';
  return { check: 'green-empty', status: 'block', message: `green's database "${f.database}" is not empty (${tables} tables)`, fix };
}

function greenEmpty(f: PreflightFacts): Finding {
  const g = f.green;
  if (g.userTables && g.userTables > 0) {
    return f.greenResettable
      ? {
          check: 'green-empty',
          status: 'warn',
          message: `green's database "${f.database}" holds ${g.userTables} tables from an earlier cutover`,
          fix: 'clone will drop and re-create it (blue serves, so nothing there is live).',
        }
      : greenNotEmpty(f, g.userTables);
  }
  return {
    check: 'green-empty',
    status: 'ok',
    message: g.databaseExists ? `green's database "${f.database}" is empty` : `green's database "${f.database}" will be created`,
  };
}

/**
 * Clone keeps roles green already has as they are: one that cannot log in there would lock the
 * application out after the switchover (PgBouncer then refuses logins for server_login_retry).
 */
function lockedOutRoles(f: PreflightFacts): Finding[] {
  const green = f.green.loginRoles;
  const lockedOut = Object.entries(f.blue.loginRoles ?? {})
    .filter(
      ([name, role]) =>
        role.canLogin && green?.[name] && (!green[name].canLogin || (role.hasPassword && green[name].hasPassword === false)),
    )
    .map(([name]) => name);
  if (!lockedOut.length) return [];
  const many = lockedOut.length > 1;
  return [
    {
      check: 'roles',
      status: 'block',
      message:
        `role${many ? 's' : ''} ${lockedOut.join(', ')} can log in on blue but exist${many ? '' : 's'} on green without LOGIN ` +
        'or without a password: clone keeps existing roles as they are, so the application could not log in after the switchover',
      fix:
        `On green: ALTER ROLE ${lockedOut[0]} LOGIN PASSWORD '...' (as on blue), ` +
        `or DROP ROLE ${lockedOut[0]} so that clone copies it from blue.`,
    },
  ];
}

function extensions(f: PreflightFacts): Finding {
  const b = f.blue;
  const g = f.green;
  const missing = (b.extensions ?? []).filter((e) => !(g.availableExtensions ?? []).includes(e));
  if (missing.length) {
    return {
      check: 'extensions',
      status: 'block',
      message: `extensions missing on green: ${missing.join(', ')}`,
      fix: "Install their packages on green's server.",
    };
  }
  const describe = (e: string) => {
    const on = b.extensionVersions?.[e];
    const offer = g.availableVersions?.[e];
    const updated = on && offer && on !== offer ? ' (updated on green after the restore)' : '';
    return `${e} ${on ?? '?'} on blue, green offers ${offer ?? '?'}${updated}`;
  };
  return {
    check: 'extensions',
    status: 'ok',
    message: (b.extensions ?? []).length ? `extensions: ${(b.extensions ?? []).map(describe).join('; ')}` : 'no extensions in use',
  };
}

function collations(f: PreflightFacts): Finding[] {
  const out: Finding[] = [];
  const b = f.blue.collation;
  const g = f.green.collation;
  if (b && g && (b.provider !== g.provider || b.version !== g.version)) {
    out.push({
      check: 'collations',
      status: 'warn',
      message:
        `the default collation differs: blue ${b.provider} ${b.version ?? '(no version)'}, ` +
        `green ${g.provider} ${g.version ?? '(no version)'}: text may sort differently on green, ` +
        'so indexes on text can be out of order there',
      fix: REINDEX_AFTER_CLONE,
    });
  }
  const drift = collationDrift(f.blue.collationsInUse ?? [], f.green.collationVersions ?? []);
  if (drift.length) {
    out.push({
      check: 'collations',
      status: 'warn',
      message:
        'collations in use have another library version on green: ' +
        `${drift.map((d) => `${d.name} (blue ${d.blue}, green ${d.green})`).join('; ')}: text they sort may sort differently on green`,
      fix: REINDEX_AFTER_CLONE,
    });
  }
  return out;
}

/** Green against blue, when both answered (an unreachable side has its own finding already). */
export function greenAgainstBlue(f: PreflightFacts): Finding[] {
  if (f.blue.error || f.green.error) return [];
  return [...distinctServers(f), ...versions(f), greenEmpty(f), ...lockedOutRoles(f), extensions(f), ...collations(f)];
}

/**
 * The collations both sides have whose provider or library version differs: text they sort may sort
 * differently on green, so the indexes using them must be rebuilt there. One only blue has yet is
 * left out (the restore creates it; compare checks it afterwards).
 */
export function collationDrift(
  blue: ReadonlyArray<CollationVersion>,
  green: ReadonlyArray<CollationVersion>,
): Array<{ name: string; blue: string; green: string }> {
  const onGreen = new Map(green.map((c) => [c.name, c]));
  const show = (c: CollationVersion) => `${c.provider} ${c.version ?? '(no version)'}`;
  return blue.flatMap((b) => {
    const g = onGreen.get(b.name);
    if (!g || (g.provider === b.provider && g.version === b.version)) return [];
    return [{ name: b.name, blue: show(b), green: show(g) }];
  });
}
