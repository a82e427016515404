/**
 * The config file: JSON, `${ENV_VAR}` anywhere in a string, validated with zod. Every problem is
 * reported at once with its path, so an operator fixes the file in one pass.
 */
import path from 'node:path';
import { z } from 'zod';
import { parseConnString, sameTarget } from './conninfo.js';
import { parseDuration } from './duration.js';
import { ConfigInvalidError, type ConfigProblem } from './errors.js';

const connString = z.string().superRefine((value, ctx) => {
  try {
    parseConnString(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

const duration = z.string().superRefine((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a positive duration (use e.g. 90s, 30m, 24h, 2d)` });
  }
});

const pgbouncerPointer = z.strictObject({
  type: z.literal('pgbouncer'),
  admin: connString,
  ini: z.string().min(1),
  database: z.string().min(1),
});

const filePointer = z.strictObject({
  type: z.literal('file'),
  path: z.string().min(1),
  variable: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a shell variable name'),
  notify: z.string().min(1).optional(),
});

const migrationsDir = z.strictObject({ dir: z.string().min(1) });
const migrationsCommand = z.strictObject({
  command: z.string().min(1),
  /** Tables the tool keeps its history in, beyond the well-known ones: copied with their rows into the effect check's scratch copy. */
  historyTables: z.array(z.string().min(1)).optional(),
});

export const configSchema = z.strictObject({
  blue: connString,
  green: connString,
  mode: z.enum(['freeze', 'replicate']).default('replicate'),
  migrations: z.union([migrationsDir, migrationsCommand]).optional(),
  pointer: z.discriminatedUnion('type', [pgbouncerPointer, filePointer]),
  rollbackWindow: duration.default('24h'),
  switchover: z
    .strictObject({
      timeoutMs: z.number().int().positive().default(30_000),
      pauseTimeoutMs: z.number().int().positive().optional(),
      maxLagBytes: z.number().int().positive().default(16 * 1024 * 1024),
      verify: z.boolean().default(false),
    })
    .default({ timeoutMs: 30_000, maxLagBytes: 16 * 1024 * 1024, verify: false }),
  stateDir: z.string().min(1).default('.bluegreen'),
  dumpDir: z.string().min(1).optional(),
  tools: z.strictObject({ binDir: z.string().min(1).optional() }).default({}),
});

export type RawConfig = z.infer<typeof configSchema>;
export type PgbouncerPointerConfig = z.infer<typeof pgbouncerPointer>;
export type FilePointerConfig = z.infer<typeof filePointer>;
export type PointerConfig = PgbouncerPointerConfig | FilePointerConfig;

/** The validated config with paths made absolute and every secret it holds listed for redaction. */
export interface Config {
  readonly file: string;
  readonly blue: string;
  readonly green: string;
  readonly mode: 'freeze' | 'replicate';
  readonly migrations?: { readonly dir: string } | { readonly command: string; readonly historyTables?: ReadonlyArray<string> };
  readonly pointer: PointerConfig;
  readonly rollbackWindowMs: number;
  readonly switchover: { readonly timeoutMs: number; readonly pauseTimeoutMs: number; readonly maxLagBytes: number; readonly verify: boolean };
  readonly stateDir: string;
  readonly dumpDir: string;
  readonly binDir?: string;
  /** Passwords and other secret values, for redaction; never printed. */
  readonly secrets: ReadonlyArray<string>;
}

const SECRET_VAR = /PASS|SECRET|TOKEN|KEY|CRED/i;

/** Replaces `${VAR}` in every string of a JSON value; problems are collected, not thrown. */
export function interpolateEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[],
  secrets: string[],
  at = '',
): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([^}]*)\}|\$\{[^}]*$/g, (whole, name: string | undefined) => {
      if (name === undefined) {
        problems.push({ path: at, message: `unterminated "\${" (write \${NAME})` });
        return whole;
      }
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        problems.push({ path: at, message: `"\${${name}}" is not a valid environment variable reference` });
        return whole;
      }
      const resolved = env[name];
      if (resolved === undefined) {
        problems.push({ path: at, message: `environment variable ${name} is not set` });
        return whole;
      }
      if (SECRET_VAR.test(name) && resolved.length > 0) secrets.push(resolved);
      return resolved;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, env, problems, secrets, `${at}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolateEnv(v, env, problems, secrets, at ? `${at}.${k}` : k)]),
    );
  }
  return value;
}

function zodProblems(issues: ReadonlyArray<z.core.$ZodIssue>): ConfigProblem[] {
  return issues.flatMap((issue) => {
    const at = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: at ? `${at}.${key}` : key, message: 'unknown key (check its spelling)' }));
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) {
      return [{ path: at, message: 'is required' }];
    }
    if (issue.code === 'invalid_union' && at === 'pointer') {
      return [{ path: at, message: 'type must be "pgbouncer" or "file"' }];
    }
    return [{ path: at, message: issue.message }];
  });
}

/**
 * Parses and validates a config file's text. Pure: the caller reads the file and passes the
 * environment. Throws ConfigInvalidError listing every problem.
 */
export function parseConfig(text: string, file: string, env: Readonly<Record<string, string | undefined>>): Config {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigInvalidError(file, [{ path: '', message: `is not valid JSON: ${(error as Error).message}` }]);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigInvalidError(file, [{ path: '', message: 'must be a JSON object' }]);
  }
  const problems: ConfigProblem[] = [];
  const secrets: string[] = [];
  const interpolated = interpolateEnv(json, env, problems, secrets);
  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) problems.push(...zodProblems(parsed.error.issues));
  if (problems.length > 0 || !parsed.success) throw new ConfigInvalidError(file, dedupe(problems));

  const raw = parsed.data;
  const blue = parseConnString(raw.blue);
  const green = parseConnString(raw.green);
  if (sameTarget(blue, green)) {
    problems.push({ path: 'green', message: `points at the same database as blue (${green.host}:${green.port}/${green.database})` });
  }
  if (raw.pointer.type === 'pgbouncer' && parseConnString(raw.pointer.admin).database !== 'pgbouncer') {
    problems.push({ path: 'pointer.admin', message: 'must connect to the "pgbouncer" admin database (…/pgbouncer)' });
  }
  const pauseTimeoutMs = raw.switchover.pauseTimeoutMs ?? Math.min(10_000, raw.switchover.timeoutMs);
  if (pauseTimeoutMs > raw.switchover.timeoutMs) {
    problems.push({ path: 'switchover.pauseTimeoutMs', message: 'must not exceed switchover.timeoutMs' });
  }
  if (problems.length > 0) throw new ConfigInvalidError(file, problems);

  for (const c of [blue, green, ...(raw.pointer.type === 'pgbouncer' ? [parseConnString(raw.pointer.admin)] : [])]) {
    if (c.password) secrets.push(c.password);
  }
  const base = path.dirname(path.resolve(file));
  const abs = (p: string) => path.resolve(base, p);
  const stateDir = abs(raw.stateDir);
  const pointer: PointerConfig =
    raw.pointer.type === 'pgbouncer' ? { ...raw.pointer, ini: abs(raw.pointer.ini) } : { ...raw.pointer, path: abs(raw.pointer.path) };
  return {
    file: path.resolve(file),
    blue: raw.blue,
    green: raw.green,
    mode: raw.mode,
    migrations: raw.migrations && 'dir' in raw.migrations ? { dir: abs(raw.migrations.dir) } : raw.migrations,
    pointer,
    rollbackWindowMs: parseDuration(raw.rollbackWindow) ?? 86_400_000,
    switchover: { timeoutMs: raw.switchover.timeoutMs, pauseTimeoutMs, maxLagBytes: raw.switchover.maxLagBytes, verify: raw.switchover.verify },
    stateDir,
    dumpDir: raw.dumpDir ? abs(raw.dumpDir) : path.join(stateDir, 'dumps'),
    binDir: raw.tools.binDir ? abs(raw.tools.binDir) : undefined,
    secrets: [...new Set(secrets)].filter((s) => s.length > 0),
  };
}

function dedupe(problems: ReadonlyArray<ConfigProblem>): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\0${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
