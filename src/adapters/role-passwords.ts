/**
 * Passwords for the login roles clone creates on green when blue's pg_authid cannot be read (no
 * superuser): a JSON file the operator names (role → password, mode 0600 like any file of secrets)
 * and/or environment variables `<PREFIX><ROLE>`. Values go only to the statements that set them.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { quoteIdent, quoteLiteral } from '../core/quote.js';
import { scramVerifier } from '../core/scram.js';
import type { Client } from './pg.js';

export interface RolePasswordSource {
  readonly passwordsFile?: string;
  readonly passwordsEnv?: string;
}

/** Every role the operator gave a password for, with the password. Throws UsageError on a bad file. */
export function rolePasswords(
  source: RolePasswordSource,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Map<string, string> {
  const out = new Map<string, string>();
  if (source.passwordsFile) {
    let parsed: unknown;
    try {
      // Group or world access would let others read every application password.
      if ((statSync(source.passwordsFile).mode & 0o077) !== 0) throw new Error('must be mode 0600 (readable by its owner only)');
      parsed = JSON.parse(readFileSync(source.passwordsFile, 'utf8'));
    } catch (error) {
      // The parser's message may quote the file's text: never repeat it.
      const why = error instanceof SyntaxError ? 'is not valid JSON' : (error as Error).message.split('\n')[0];
      throw new UsageError(`roles.passwordsFile ${source.passwordsFile}: ${why}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new UsageError(`roles.passwordsFile ${source.passwordsFile}: must be a JSON object of role → password`);
    for (const [role, password] of Object.entries(parsed)) {
      if (typeof password !== 'string' || password === '')
        throw new UsageError(`roles.passwordsFile: the password of role "${role}" must be a non-empty string`);
      out.set(role, password);
    }
  }
  if (source.passwordsEnv) {
    for (const [key, value] of Object.entries(env)) {
      if (key.startsWith(source.passwordsEnv) && key.length > source.passwordsEnv.length && value)
        out.set(key.slice(source.passwordsEnv.length), value);
    }
  }
  return out;
}

/**
 * Gives each role just created on green its password from the operator, as a SCRAM-SHA-256 verifier
 * computed here: ALTER ROLE takes no parameters, so its text could reach the server's log
 * (log_statement = ddl or all) or pg_stat_statements, and what is there is not a password.
 */
export async function setRolePasswords(
  client: Client,
  roles: ReadonlyArray<string>,
  passwords: ReadonlyMap<string, string>,
): Promise<number> {
  let set = 0;
  for (const role of roles) {
    const password = passwords.get(role);
    if (password === undefined) continue;
    await client.query(`ALTER ROLE ${quoteIdent(role)} PASSWORD ${quoteLiteral(scramVerifier(password, randomBytes(16)))}`);
    set++;
  }
  return set;
}
