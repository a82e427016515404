/**
 * SCRAM-SHA-256 verifiers computed here, on the controller, so a role's password reaches the server
 * only as PostgreSQL stores it (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, RFC 5802 /
 * RFC 7677). `ALTER ROLE … PASSWORD '<verifier>'` is taken as is; with log_statement = ddl or all, or in
 * pg_stat_statements, the statement's text then holds no password anyone could log in with.
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';

/** PostgreSQL's default (scram_iterations, 16+); what 15 always uses. */
export const SCRAM_ITERATIONS = 4096;

// RFC 3454 tables as PostgreSQL's SASLprep uses them: spaces mapped to U+0020, characters mapped to nothing.
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;
// Prohibited output (controls, private use, surrogates, non-characters, …): PostgreSQL then uses the raw bytes.
// eslint-disable-next-line no-control-regex
const PROHIBITED = /[\u0000-\u001F\u007F-\u009F\u0340\u0341\u200E\u200F\u202A-\u202E\u206A-\u206F\uE000-\uF8FF\uFFF9-\uFFFD\uD800-\uDFFF]/;

/** The bytes PostgreSQL hashes: SASLprep of the password where it applies, the password itself where it does not (as the server does). */
export function saslPrep(password: string): Buffer {
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u007F]*$/.test(password)) return Buffer.from(password, 'utf8');
  const prepared = password.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '').normalize('NFKC');
  return Buffer.from(prepared === '' || PROHIBITED.test(prepared) ? password : prepared, 'utf8');
}

export interface ScramKeys {
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

/** StoredKey and ServerKey from the password, salt and iteration count. */
export function scramKeys(password: string, salt: Buffer, iterations = SCRAM_ITERATIONS): ScramKeys {
  const salted = pbkdf2Sync(saslPrep(password), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  return { storedKey, serverKey: createHmac('sha256', salted).update('Server Key').digest() };
}

/** The verifier PostgreSQL keeps in pg_authid.rolpassword. `salt`: 16 random bytes, one per password set. */
export function scramVerifier(password: string, salt: Buffer, iterations = SCRAM_ITERATIONS): string {
  const { storedKey, serverKey } = scramKeys(password, salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
