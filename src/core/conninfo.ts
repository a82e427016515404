/**
 * Connection strings as libpq reads them: URLs (`postgres://…?sslmode=verify-full&sslrootcert=…`) and
 * keyword/value strings (`host=db port=5432 dbname=app sslmode=verify-full`). Everything is kept:
 * every parameter reaches node-postgres (through pg-connection-string, in adapters/pg.ts), the
 * PostgreSQL tools (as a service file, never argv) and the subscription's conninfo (escaped by libpq's
 * rules). Internally a connection is always carried as a URL.
 */

export interface ConnInfo {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string;
  readonly database: string;
  /** Every other libpq parameter, as given (sslmode, sslrootcert, sslcert, sslkey, sslcrl, sslpassword, options, ...). */
  readonly params: Readonly<Record<string, string>>;
}

/** libpq parameters that hold a secret: never printed, kept out of argv. */
export const SECRET_PARAMS: ReadonlySet<string> = new Set(['password', 'sslpassword']);

/** Parameters the tool understands; others are passed on untouched but a typo is worth a warning. */
export const KNOWN_PARAMS: ReadonlySet<string> = new Set([
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'password',
  'passfile',
  'connect_timeout',
  'client_encoding',
  'options',
  'application_name',
  'fallback_application_name',
  'keepalives',
  'keepalives_idle',
  'keepalives_interval',
  'keepalives_count',
  'tcp_user_timeout',
  'sslmode',
  'sslnegotiation',
  'sslcompression',
  'sslcert',
  'sslkey',
  'sslpassword',
  'sslcertmode',
  'sslrootcert',
  'sslcrl',
  'sslcrldir',
  'sslsni',
  'requirepeer',
  'ssl_min_protocol_version',
  'ssl_max_protocol_version',
  'gssencmode',
  'krbsrvname',
  'gsslib',
  'gssdelegation',
  'service',
  'target_session_attrs',
  'load_balance_hosts',
  'require_auth',
  'channel_binding',
]);

/** Parses a libpq keyword/value string: `key = value` pairs, values optionally single-quoted with `\'` and `\\`. */
export function parseKeywordValue(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  const n = text.length;
  const skip = () => {
    while (i < n && /\s/.test(text[i])) i++;
  };
  while (true) {
    skip();
    if (i >= n) break;
    const keyStart = i;
    while (i < n && /[A-Za-z0-9_]/.test(text[i])) i++;
    const key = text.slice(keyStart, i);
    skip();
    if (!key || text[i] !== '=')
      throw new Error(`has "${text.slice(keyStart, keyStart + 20).split(/\s/)[0]}" where keyword=value was expected`);
    i++;
    skip();
    let value = '';
    if (text[i] === "'") {
      i++;
      let closed = false;
      while (i < n) {
        const c = text[i];
        if (c === '\\' && i + 1 < n) {
          value += text[i + 1];
          i += 2;
        } else if (c === "'") {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) throw new Error(`has an unterminated quoted value for ${key}`);
    } else {
      while (i < n && !/\s/.test(text[i])) {
        if (text[i] === '\\' && i + 1 < n) {
          value += text[i + 1];
          i += 2;
        } else value += text[i++];
      }
    }
    out[key] = value;
  }
  return out;
}

/** Parses a URL or a keyword/value string. Throws a plain Error with a readable message (never quoting a secret). */
export function parseConnString(text: string): ConnInfo {
  if (/^postgres(ql)?:\/\//i.test(text.trim())) return parseUrl(text.trim());
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text.trim());
  if (scheme) throw new Error(`must start with postgres:// (got ${scheme[1]}://)`);
  if (/^[A-Za-z_]+\s*=/.test(text.trim())) {
    const kv = parseKeywordValue(text);
    const { host, port, dbname, user, password, ...params } = kv;
    if (!dbname) throw new Error('names no database (add dbname=...)');
    if (!host) throw new Error('names no host (add host=...)');
    const portNumber = port ? Number(port) : 5432;
    if (!Number.isInteger(portNumber) || portNumber <= 0 || portNumber > 65535) throw new Error(`has an invalid port "${port}"`);
    return {
      host,
      port: portNumber,
      user: user || 'postgres',
      password: password === undefined || password === '' ? undefined : password,
      database: dbname,
      params,
    };
  }
  throw new Error('must start with postgres:// (postgres://user@host:port/database), or be keyword=value pairs (host=... dbname=...)');
}

function parseUrl(url: string): ConnInfo {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(
      'is not a valid URL (expected postgres://user@host:port/database, the password after the user and a colon; characters such as @ : ' +
        '/ % in it must be percent-encoded)',
    );
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  const params: Record<string, string> = {};
  parsed.searchParams.forEach((value, key) => {
    params[key] = value;
  });
  const { host: hostParam, port: portParam, dbname, user: userParam, password: passwordParam, ...rest } = params;
  if (!database && !dbname) throw new Error('names no database (add /dbname after the host)');
  const host = hostParam ?? decodeURIComponent(parsed.hostname);
  if (!host) throw new Error('names no host');
  const port = portParam ? Number(portParam) : parsed.port ? Number(parsed.port) : 5432;
  const password = passwordParam ?? (parsed.password ? decodeURIComponent(parsed.password) : undefined);
  return {
    host: host.replace(/^\[|\]$/g, ''),
    port,
    user: userParam ?? (decodeURIComponent(parsed.username) || 'postgres'),
    password: password === '' ? undefined : password,
    database: dbname ?? database,
    params: rest,
  };
}

/** Builds the URL form (the one carried inside the tool). */
export function formatConnString(info: ConnInfo): string {
  const auth =
    info.password === undefined ? encodeURIComponent(info.user) : `${encodeURIComponent(info.user)}:${encodeURIComponent(info.password)}`;
  const host = info.host.includes(':') ? `[${info.host}]` : info.host;
  const query = new URLSearchParams(info.params).toString();
  return `postgres://${auth}@${host}:${info.port}/${encodeURIComponent(info.database)}${query ? `?${query}` : ''}`;
}

/** Any accepted form, as the tool's canonical URL. */
export function normalizeConnString(text: string): string {
  return formatConnString(parseConnString(text));
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
export function sameTarget(a: Pick<ConnInfo, 'host' | 'port' | 'database'>, b: Pick<ConnInfo, 'host' | 'port' | 'database'>): boolean {
  const norm = (h: string) => (h === 'localhost' || h === '::1' ? '127.0.0.1' : h);
  return norm(a.host) === norm(b.host) && a.port === b.port && a.database === b.database;
}

/** A value in a libpq conninfo: single-quoted, with `\` and `'` escaped by a backslash (libpq's rules). */
export function conninfoValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The keyword/value conninfo for a connection: every parameter, every value escaped by libpq's rules. */
export function toConninfo(info: ConnInfo, omit: ReadonlyArray<string> = []): string {
  const parts: Array<[string, string]> = [
    ['host', info.host],
    ['port', String(info.port)],
    ['user', info.user],
    ['dbname', info.database],
  ];
  if (info.password !== undefined) parts.push(['password', info.password]);
  for (const [k, v] of Object.entries(info.params)) parts.push([k, v]);
  return parts
    .filter(([k]) => !omit.includes(k))
    .map(([k, v]) => `${k}=${conninfoValue(v)}`)
    .join(' ');
}

/** A pg_service.conf section: how the PostgreSQL tools get every parameter, secrets included, without argv or environment. */
export function serviceFileSection(name: string, info: ConnInfo): string {
  const lines = [`[${name}]`, `host=${info.host}`, `port=${info.port}`, `user=${info.user}`, `dbname=${info.database}`];
  if (info.password !== undefined) lines.push(`password=${info.password}`);
  for (const [k, v] of Object.entries(info.params)) lines.push(`${k}=${v}`);
  return `${lines.join('\n')}\n`;
}

/** Secrets a connection string holds (password, sslpassword). */
export function secretsOf(info: ConnInfo): string[] {
  return [info.password, info.params.sslpassword].filter((s): s is string => !!s);
}

/** libpq environment variables for child processes that are not PostgreSQL tools (a migration command). */
export function libpqEnv(info: ConnInfo): Record<string, string> {
  const env: Record<string, string> = {
    PGHOST: info.host,
    PGPORT: String(info.port),
    PGUSER: info.user,
    PGDATABASE: info.database,
  };
  if (info.password !== undefined) env.PGPASSWORD = info.password;
  const byParam: Record<string, string> = {
    sslmode: 'PGSSLMODE',
    sslrootcert: 'PGSSLROOTCERT',
    sslcert: 'PGSSLCERT',
    sslkey: 'PGSSLKEY',
    sslcrl: 'PGSSLCRL',
    sslcrldir: 'PGSSLCRLDIR',
    passfile: 'PGPASSFILE',
    connect_timeout: 'PGCONNECT_TIMEOUT',
    options: 'PGOPTIONS',
    target_session_attrs: 'PGTARGETSESSIONATTRS',
    application_name: 'PGAPPNAME',
    sslnegotiation: 'PGSSLNEGOTIATION',
    channel_binding: 'PGCHANNELBINDING',
    require_auth: 'PGREQUIREAUTH',
    gssencmode: 'PGGSSENCMODE',
    sslsni: 'PGSSLSNI',
    ssl_min_protocol_version: 'PGSSLMINPROTOCOLVERSION',
    ssl_max_protocol_version: 'PGSSLMAXPROTOCOLVERSION',
  };
  for (const [k, v] of Object.entries(info.params)) if (byParam[k]) env[byParam[k]] = v;
  return env;
}

/** `host:port` (the pooler's address for a side) into host and port. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  return port > 0 && port <= 65535 ? { host: m[1], port } : undefined;
}

/**
 * The password a passfile gives for a connection, by libpq's rules: `host:port:database:user:password`
 * lines, `*` matching anything, `\:` and `\\` escaped, first match wins, comments with `#`.
 */
export function passwordFromPassfile(text: string, info: Pick<ConnInfo, 'host' | 'port' | 'database' | 'user'>): string | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!line.trim() || line.startsWith('#')) continue;
    const fields: string[] = [];
    let current = '';
    for (let i = 0; i < line.length; i++) {
      if (line[i] === '\\' && i + 1 < line.length) current += line[++i];
      else if (line[i] === ':' && fields.length < 4) {
        fields.push(current);
        current = '';
      } else current += line[i];
    }
    fields.push(current);
    if (fields.length < 5) continue;
    const [host, port, database, user, password] = fields;
    const hostMatches =
      host === '*' || host === info.host || (host === 'localhost' && (info.host === '127.0.0.1' || info.host.startsWith('/')));
    if (
      hostMatches &&
      (port === '*' || port === String(info.port)) &&
      (database === '*' || database === info.database) &&
      (user === '*' || user === info.user)
    )
      return password;
  }
  return undefined;
}
