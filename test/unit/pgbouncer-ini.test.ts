import { describe, expect, it } from 'vitest';
import { parseKeyValues, readEnvVariable, readTarget, rewriteEnvVariable, rewriteTarget } from '../../src/core/pgbouncer-ini.js';

const ini = `;; production pooler
[databases]
; the app
app = host=10.0.0.5 port=5432 dbname=app user=app pool_size=40
"other db" = host=10.0.0.9 dbname=other
reports = host='10.0.0.7' port=5432 dbname=reports application_name='weekly report'

[pgbouncer]
listen_port = 6432
; app = this is not an entry
`;

describe('pgbouncer.ini', () => {
  it('reads an entry', () => {
    expect(readTarget(ini, 'app')).toEqual({ host: '10.0.0.5', port: 5432, database: 'app' });
    expect(readTarget(ini, 'other db')).toEqual({ host: '10.0.0.9', port: 5432, database: 'other' });
    expect(readTarget(ini, 'missing')).toBeUndefined();
  });

  it('rewrites only host, port and dbname of one entry, keeping every other byte', () => {
    const out = rewriteTarget(ini, 'app', { host: '10.0.0.6', port: 5433, database: 'app_v2' });
    const before = ini.split('\n');
    const after = out.split('\n');
    expect(after.length).toBe(before.length);
    after.forEach((line, i) => {
      if (i === 3) expect(line).toBe('app = host=10.0.0.6 port=5433 dbname=app_v2 user=app pool_size=40');
      else expect(line).toBe(before[i]);
    });
  });

  it('adds missing keys and quotes values that need it', () => {
    const out = rewriteTarget(ini, 'other db', { host: 'db host', port: 6000, database: "it's" });
    expect(out.split('\n')[4]).toBe(`"other db" = host='db host' dbname='it\\'s' port=6000`);
    expect(readTarget(out, 'other db')).toEqual({ host: 'db host', port: 6000, database: "it's" });
  });

  it('parses quoted values', () => {
    expect(parseKeyValues("host='10.0.0.7' application_name='weekly report'")).toEqual([
      ['host', '10.0.0.7'],
      ['application_name', 'weekly report'],
    ]);
  });

  it('keeps CRLF line endings', () => {
    const crlf = '[databases]\r\napp = host=a port=1 dbname=app\r\n';
    expect(rewriteTarget(crlf, 'app', { host: 'b', port: 2, database: 'app' })).toBe('[databases]\r\napp = host=b port=2 dbname=app\r\n');
  });

  it('reads and rewrites a variable in an env file', () => {
    const env = '# app settings\nexport DATABASE_URL="postgres://a@h:1/app"\nOTHER=1\n';
    expect(readEnvVariable(env, 'DATABASE_URL')).toBe('postgres://a@h:1/app');
    const out = rewriteEnvVariable(env, 'DATABASE_URL', 'postgres://a@g:2/app');
    expect(out).toBe('# app settings\nexport DATABASE_URL=postgres://a@g:2/app\nOTHER=1\n');
  });
});
