import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { conninfoValue, formatConnString, libpqEnv, parseConnString, parseKeywordValue, passwordFromPassfile, serviceFileSection, toConninfo } from '../../src/core/conninfo.js';
import { redact } from '../../src/core/redact.js';

const hostile = `p@ss:w/o%rd?&= 'q' \\b`;

describe('connection strings as libpq reads them', () => {
  it('reads a URL with every SSL parameter and a password that needed percent-encoding', () => {
    const url = `postgres://app:${encodeURIComponent(hostile)}@db.internal:6543/app?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&sslcert=%2Fc.pem&sslkey=%2Fk.pem&sslcrl=%2Fcrl.pem&sslpassword=k3y-pass&target_session_attrs=read-write&connect_timeout=5&options=-c%20statement_timeout%3D0`;
    const c = parseConnString(url);
    expect(c).toMatchObject({ host: 'db.internal', port: 6543, user: 'app', password: hostile, database: 'app' });
    expect(c.params).toEqual({ sslmode: 'verify-full', sslrootcert: '/etc/ca.pem', sslcert: '/c.pem', sslkey: '/k.pem', sslcrl: '/crl.pem', sslpassword: 'k3y-pass', target_session_attrs: 'read-write', connect_timeout: '5', options: '-c statement_timeout=0' });
    expect(parseConnString(formatConnString(c))).toEqual(c);
  });

  it('reads keyword=value strings with quoted values and escapes', () => {
    expect(parseKeywordValue(`host=h port = 5433 dbname='my db' password='it\\'s \\\\x' sslmode=verify-ca`)).toEqual({ host: 'h', port: '5433', dbname: 'my db', password: "it's \\x", sslmode: 'verify-ca' });
    const c = parseConnString(`host=10.0.0.5 port=5433 dbname=app user=app sslmode=verify-full sslrootcert=/ca.pem`);
    expect(c).toMatchObject({ host: '10.0.0.5', port: 5433, database: 'app', user: 'app', password: undefined, params: { sslmode: 'verify-full', sslrootcert: '/ca.pem' } });
    expect(() => parseConnString(`host=h dbname='x`)).toThrow(/unterminated quoted value for dbname/);
    expect(() => parseConnString(`host=h`)).toThrow(/names no database/);
    expect(() => parseConnString('mysql://x')).toThrow('must start with postgres:// (got mysql://)');
  });

  it('writes conninfo values by libpq\'s rules (backslash escapes, not SQL doubling) and round-trips them', () => {
    expect(conninfoValue(`it's a \\ test`)).toBe(`'it\\'s a \\\\ test'`);
    const info = parseConnString(`postgres://app:${encodeURIComponent(hostile)}@h:5432/app?sslmode=verify-full&sslrootcert=%2Fca.pem`);
    const conninfo = toConninfo(info);
    const back = parseKeywordValue(conninfo);
    expect(back).toMatchObject({ host: 'h', port: '5432', user: 'app', dbname: 'app', password: hostile, sslmode: 'verify-full', sslrootcert: '/ca.pem' });
  });

  it('gives the tools a service file with every parameter, and a migration command the PG* variables', () => {
    const info = parseConnString('postgres://u:pw@h:5/d?sslmode=verify-full&sslrootcert=%2Fca&sslpassword=kp');
    expect(serviceFileSection('bluegreen', info)).toBe('[bluegreen]\nhost=h\nport=5\nuser=u\ndbname=d\npassword=pw\nsslmode=verify-full\nsslrootcert=/ca\nsslpassword=kp\n');
    expect(libpqEnv(info)).toMatchObject({ PGHOST: 'h', PGPORT: '5', PGPASSWORD: 'pw', PGSSLMODE: 'verify-full', PGSSLROOTCERT: '/ca' });
  });

  it('finds a password in a passfile as libpq does', () => {
    const file = `# comment\nother:5432:*:app:nope\n*:5433:app:app:first\n*:*:*:app:second\n127.0.0.1:*:*:we\\:ird:c\\:olon\\\\x\n`;
    expect(passwordFromPassfile(file, { host: 'h', port: 5433, database: 'app', user: 'app' })).toBe('first');
    expect(passwordFromPassfile(file, { host: 'h', port: 1, database: 'x', user: 'app' })).toBe('second');
    expect(passwordFromPassfile(file, { host: '127.0.0.1', port: 1, database: 'x', user: 'we:ird' })).toBe('c:olon\\x');
    expect(passwordFromPassfile(file, { host: 'h', port: 1, database: 'x', user: 'nobody' })).toBeUndefined();
  });

  it('redacts a secret and any piece of it an error may quote', () => {
    const secret = 'Zq7-Kp2_Xw9!Lm4';
    expect(redact(`syntax error near "Kp2_Xw9!L" in conninfo`, [secret])).toBe('syntax error near "****" in conninfo');
    expect(redact('sslpassword=abc host=x', [])).toBe('sslpassword=**** host=x');
    expect(redact('a perfectly ordinary line', [secret])).toBe('a perfectly ordinary line');
  });
});

describe('config: three addresses per side, fleets, the command pointer', () => {
  const base = {
    blue: { url: 'host=10.0.0.1 port=5432 dbname=app user=postgres sslmode=verify-full sslrootcert=/ca.pem sslpassword=${KEY_PASS}', pooler: '10.1.0.1:5432', peer: 'postgres://postgres@blue.private:5432/app?sslmode=verify-full' },
    green: 'postgres://postgres:${GREEN_PASSWORD}@10.0.0.2:5432/app',
    pointer: { type: 'pgbouncer', database: 'app', instances: [{ admin: 'postgres://a:${PGB_PASSWORD}@pgb1:6432/pgbouncer', ini: 'pgb1.ini' }, { admin: 'postgres://a:${PGB_PASSWORD}@pgb2:6432/pgbouncer', ini: '/etc/pgb2.ini' }] },
  };
  const env = { KEY_PASS: 'key-secret-1', GREEN_PASSWORD: 'green-secret', PGB_PASSWORD: 'pgb-secret' };

  it('keeps each address and lists every secret, sslpassword included', () => {
    const c = parseConfig(JSON.stringify(base), '/srv/c.json', env);
    expect(c.blue).toBe('postgres://postgres@10.0.0.1:5432/app?sslmode=verify-full&sslrootcert=%2Fca.pem&sslpassword=key-secret-1');
    expect(c.addresses.blue).toEqual({ pooler: { host: '10.1.0.1', port: 5432, database: 'app' }, peer: 'postgres://postgres@blue.private:5432/app?sslmode=verify-full' });
    expect(c.addresses.green).toEqual({ pooler: { host: '10.0.0.2', port: 5432, database: 'app' }, peer: c.green });
    expect(c.pointer).toEqual({ type: 'pgbouncer', database: 'app', instances: [{ admin: 'postgres://a:pgb-secret@pgb1:6432/pgbouncer', ini: '/srv/pgb1.ini' }, { admin: 'postgres://a:pgb-secret@pgb2:6432/pgbouncer', ini: '/etc/pgb2.ini' }] });
    expect(c.secrets).toEqual(expect.arrayContaining(['key-secret-1', 'green-secret', 'pgb-secret']));
  });

  it('accepts a command pointer and refuses a mix of forms', () => {
    const c = parseConfig(JSON.stringify({ ...base, pointer: { type: 'command', current: './current.sh', flip: './flip.sh' } }), '/srv/c.json', env);
    expect(c.pointer).toEqual({ type: 'command', current: './current.sh', flip: './flip.sh', timeoutMs: 30000 });
    const bad = { ...base, blue: { url: base.green, pooler: 'nope' }, pointer: { ...base.pointer, admin: 'postgres://a@h/pgbouncer' } };
    expect(() => parseConfig(JSON.stringify(bad), '/srv/c.json', env)).toThrow(/blue\.pooler: "nope" is not host:port[\s\S]*pointer: give either admin and ini, or instances, not both/);
  });
});
