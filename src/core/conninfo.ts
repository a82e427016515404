/** Connection strings: parsing, the parts tools need, and a display form without the password. */

export interface ConnInfo {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string;
  readonly database: string;
  /** Extra query parameters (sslmode, ...), kept as given. */
  readonly params: Readonly<Record<string, string>>;
}

/** Parses `postgres://user:pass@host:port/db?x=y`. Throws a plain Error with a readable message. */
export function parseConnString(url: string): ConnInfo {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('is not a valid URL (expected postgres://user:password@host:port/database)');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error(`must start with postgres:// (got ${parsed.protocol}//)`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database) throw new Error('names no database (add /dbname after the host)');
  const params: Record<string, string> = {};
  parsed.searchParams.forEach((value, key) => {
    params[key] = value;
  });
  const host = params.host ?? decodeURIComponent(parsed.hostname) ?? '';
  if (!host) throw new Error('names no host');
  const port = parsed.port ? Number(parsed.port) : 5432;
  return {
    host: host.replace(/^\[|\]$/g, ''),
    port,
    user: decodeURIComponent(parsed.username) || 'postgres',
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    database,
    params,
  };
}

/** Builds a URL back from parts (used to point at another database on the same server). */
export function formatConnString(info: ConnInfo): string {
  const auth = info.password === undefined
    ? encodeURIComponent(info.user)
    : `${encodeURIComponent(info.user)}:${encodeURIComponent(info.password)}`;
  const host = info.host.includes(':') ? `[${info.host}]` : info.host;
  const query = new URLSearchParams(info.params).toString();
  return `postgres://${auth}@${host}:${info.port}/${encodeURIComponent(info.database)}${query ? `?${query}` : ''}`;
}

/** The same server, another database (for CREATE/DROP DATABASE, which cannot run inside the target). */
export function withDatabase(url: string, database: string): string {
  return formatConnString({ ...parseConnString(url), database });
}

/** What an operator sees: `app@127.0.0.1:5432/app`, never the password. */
export function describeConn(url: string): string {
  try {
    const c = parseConnString(url);
    return `${c.user}@${c.host}:${c.port}/${c.database}`;
  } catch {
    return '(unparsable connection string)';
  }
}

/** Same server and database, whatever the user: the check that blue and green are not one database. */
export function sameTarget(a: ConnInfo, b: ConnInfo): boolean {
  const norm = (h: string) => (h === 'localhost' || h === '::1' ? '127.0.0.1' : h);
  return norm(a.host) === norm(b.host) && a.port === b.port && a.database === b.database;
}

/** libpq environment variables for child processes: keeps the password out of argv (and so out of `ps`). */
export function libpqEnv(info: ConnInfo): Record<string, string> {
  const env: Record<string, string> = {
    PGHOST: info.host,
    PGPORT: String(info.port),
    PGUSER: info.user,
    PGDATABASE: info.database,
  };
  if (info.password !== undefined) env.PGPASSWORD = info.password;
  if (info.params.sslmode) env.PGSSLMODE = info.params.sslmode;
  return env;
}
