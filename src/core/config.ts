/**
 * The config file: JSON, `${ENV_VAR}` anywhere in a string, validated with zod. Every problem is
 * reported at once with its path, so an operator fixes the file in one pass.
 */
import path from 'node:path';
import { z } from 'zod';
import type { BlockerPolicy } from './blockers.js';
import { type ConnInfo, formatConnString, normalizeConnString, parseConnString, parseHostPort, sameTarget, secretsOf } from './conninfo.js';
import { parseDuration } from './duration.js';
import { ConfigInvalidError, type ConfigProblem } from './errors.js';
import type { RollbackRule } from './guard.js';

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

const hostPort = z.string().superRefine((value, ctx) => {
  if (!parseHostPort(value)) ctx.addIssue({ code: 'custom', message: `"${value}" is not host:port` });
});

/** A side: its URL, or `{ url, pooler, peer }` when the pooler or the other database reach it at another address. */
const side = z.union([
  connString,
  z.strictObject({
    url: connString,
    /** Where the pooler (or the command pointer) should send traffic for this side: `host:port`. */
    pooler: hostPort.optional(),
    /** How the other database reaches this one for replication (the subscription's connection). */
    peer: connString.optional(),
  }),
]);

const pgbouncerInstance = z.strictObject({ admin: connString, ini: z.string().min(1) });

const pgbouncerPointer = z
  .strictObject({
    type: z.literal('pgbouncer'),
    admin: connString.optional(),
    ini: z.string().min(1).optional(),
    database: z.string().min(1),
    /** A fleet: paused, flipped and resumed as one, undone as one. */
    instances: z.array(pgbouncerInstance).min(1).optional(),
  })
  .superRefine((value, ctx) => {
    const single = value.admin !== undefined || value.ini !== undefined;
    if (single && value.instances) ctx.addIssue({ code: 'custom', message: 'give either admin and ini, or instances, not both' });
    else if (!value.instances) {
      for (const key of ['admin', 'ini'] as const)
        if (value[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'is required' });
    }
  });

const commandPointer = z.strictObject({
  type: z.literal('command'),
  /** Prints one line, host:port/database, of where traffic goes now. */
  current: z.string().min(1),
  /** Sends traffic to BLUEGREEN_TARGET_HOST/PORT/DATABASE and exits 0 once it goes there. */
  flip: z.string().min(1),
  timeoutMs: z.number().int().positive().default(30_000),
});

const filePointer = z.strictObject({
  type: z.literal('file'),
  path: z.string().min(1),
  variable: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a shell variable name'),
  notify: z.string().min(1).optional(),
});

/** Past it the running migration is cancelled: nothing of it applied, migrate fails saying so. */
const migrationTimeout = z.number().int().positive().optional();
const migrationsDir = z.strictObject({ dir: z.string().min(1), timeoutMs: migrationTimeout });
const migrationsCommand = z.strictObject({
  command: z.string().min(1),
  timeoutMs: migrationTimeout,
  /** Tables the tool keeps its history in, beyond the well-known ones: copied with their rows into the effect check's scratch copy. */
  historyTables: z.array(z.string().min(1)).optional(),
});

/** `bluegreen guard`: checks on the serving side, and when their failures roll the window back. */
const guardCheck = z.union([
  z.strictObject({ name: z.string().min(1), command: z.string().min(1), timeoutMs: z.number().int().positive().default(5000) }),
  z.strictObject({ name: z.string().min(1), url: z.url(), timeoutMs: z.number().int().positive().default(5000) }),
  z.strictObject({ name: z.string().min(1), sql: z.string().min(1), timeoutMs: z.number().int().positive().default(5000) }),
]);
const guardSchema = z.strictObject({
  interval: duration.default('5s'),
  checks: z
    .array(guardCheck)
    .min(1)
    .refine((cs) => new Set(cs.map((c) => c.name)).size === cs.length, 'check names must be unique'),
  rollbackAfter: z
    .union([
      z.strictObject({ failures: z.number().int().positive() }),
      z.strictObject({ ratio: z.number().gt(0).max(1), within: duration }),
    ])
    .default({ failures: 3 }),
  /** Roll back automatically even when the window is lossy (what is given up is recorded). */
  allowDataLoss: z.boolean().default(false),
});

export const configSchema = z.strictObject({
  blue: side,
  green: side,
  mode: z.enum(['freeze', 'replicate']).default('replicate'),
  migrations: z.union([migrationsDir, migrationsCommand]).optional(),
  pointer: z.discriminatedUnion('type', [pgbouncerPointer, filePointer, commandPointer]),
  rollbackWindow: duration.default('24h'),
  switchover: z
    .strictObject({
      timeoutMs: z.number().int().positive().default(30_000),
      pauseTimeoutMs: z.number().int().positive().optional(),
      maxLagBytes: z
        .number()
        .int()
        .positive()
        .default(16 * 1024 * 1024),
      verify: z.boolean().default(false),
      /** Sessions that would hold the pause (open transactions, long queries): wait for them, cancel their queries, or end them. */
      blockers: z
        .strictObject({
          action: z.enum(['wait', 'cancel', 'terminate']).default('wait'),
          waitMs: z.number().int().nonnegative().default(10_000),
          minAgeMs: z.number().int().nonnegative().default(500),
        })
        .default({ action: 'wait', waitMs: 10_000, minAgeMs: 500 }),
      unloggedCopyMaxRows: z.number().int().nonnegative().default(10_000),
    })
    .default({
      timeoutMs: 30_000,
      maxLagBytes: 16 * 1024 * 1024,
      verify: false,
      blockers: { action: 'wait', waitMs: 10_000, minAgeMs: 500 },
      unloggedCopyMaxRows: 10_000,
    }),
  /**
   * backup: "dump" keeps the whole dump on this disk as the pre-migration backup; "none" streams the
   * rows straight to green (replicate mode's default).
   */
  clone: z.strictObject({ backup: z.enum(['dump', 'none']).optional() }).default({}),
  stateDir: z.string().min(1).default('.bluegreen'),
  /** Runs on every phase change, flip and failure with the event as JSON on stdin. */
  notify: z.strictObject({ command: z.string().min(1), timeoutMs: z.number().int().positive().default(10_000) }).optional(),
  dumpDir: z.string().min(1).optional(),
  guard: guardSchema.optional(),
  tools: z.strictObject({ binDir: z.string().min(1).optional() }).default({}),
  /** Without a superuser pg_authid is unreadable: login roles' passwords for green come from here (names → passwords). */
  roles: z
    .strictObject({
      passwordsFile: z.string().min(1).optional(),
      passwordsEnv: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable prefix')
        .optional(),
      /** The roles exist on green already, with their passwords (made by the service's console or IaC): clone copies none. */
      requireOnGreen: z.boolean().optional(),
    })
    .default({}),
});

export type RawConfig = z.infer<typeof configSchema>;
export type GuardCheck = z.infer<typeof guardCheck>;
export interface GuardConfig {
  readonly intervalMs: number;
  readonly checks: ReadonlyArray<GuardCheck>;
  readonly rollbackAfter: RollbackRule;
  readonly allowDataLoss: boolean;
}
/** A PgBouncer pointer, always as a fleet (one instance for the single form). */
export interface PgbouncerPointerConfig {
  readonly type: 'pgbouncer';
  readonly database: string;
  readonly instances: ReadonlyArray<{ readonly admin: string; readonly ini: string }>;
}
export type FilePointerConfig = z.infer<typeof filePointer>;
export type CommandPointerConfig = z.infer<typeof commandPointer>;
export type PointerConfig = PgbouncerPointerConfig | FilePointerConfig | CommandPointerConfig;

/** Where each side is reached from each place that connects to it. */
export interface SideAddresses {
  /** Where the pointer sends traffic for this side (default: the url's host and port). */
  readonly pooler: { readonly host: string; readonly port: number; readonly database: string };
  /** The connection the other database uses to replicate from this one (default: the url). */
  readonly peer: string;
}

/** The validated config with paths made absolute and every secret it holds listed for redaction. */
export interface Config {
  readonly file: string;
  /** The controller's connection to each side (a URL, whatever form the config used). */
  readonly blue: string;
  readonly green: string;
  readonly addresses: { readonly blue: SideAddresses; readonly green: SideAddresses };
  readonly mode: 'freeze' | 'replicate';
  readonly migrations?: ({ readonly dir: string } | { readonly command: string; readonly historyTables?: ReadonlyArray<string> }) & {
    readonly timeoutMs?: number;
  };
  readonly pointer: PointerConfig;
  readonly rollbackWindowMs: number;
  readonly switchover: {
    readonly timeoutMs: number;
    /** PAUSE's own budget: every client waits at most this long for a flip that cannot pause. */
    readonly pauseTimeoutMs: number;
    readonly maxLagBytes: number;
    readonly verify: boolean;
    readonly blockers: BlockerPolicy;
    /** Unlogged tables copied inside the pause up to this many rows each; a larger one refuses the flip. */
    readonly unloggedCopyMaxRows: number;
  };
  readonly stateDir: string;
  readonly dumpDir: string;
  readonly clone: { readonly backup: 'dump' | 'none' };
  readonly notify?: { readonly command: string; readonly timeoutMs: number };
  readonly guard?: GuardConfig;
  readonly binDir?: string;
  /** Where role passwords come from when pg_authid cannot be read: a JSON file (role → password) and/or `<PREFIX><ROLE>` variables. */
  readonly roles: { readonly passwordsFile?: string; readonly passwordsEnv?: string; readonly requireOnGreen?: boolean };
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
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateEnv(v, env, problems, secrets, at ? `${at}.${k}` : k)]));
  }
  return value;
}

function zodProblems(issues: ReadonlyArray<z.core.$ZodIssue>): ConfigProblem[] {
  return issues.flatMap((issue) => {
    const at = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: at ? `${at}.${key}` : key, message: 'unknown key (check its spelling)' }));
    }
    if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && issue.input === undefined) {
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
/** The file as JSON, its ${VAR}s filled in from the environment, checked against the schema: every problem at once. */
function readRawConfig(text: string, file: string, env: Readonly<Record<string, string | undefined>>, secrets: string[]): RawConfig {
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
  const interpolated = interpolateEnv(json, env, problems, secrets);
  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) problems.push(...zodProblems(parsed.error.issues));
  if (problems.length > 0 || !parsed.success) throw new ConfigInvalidError(file, dedupe(problems));
  return parsed.data;
}

type SideConfig = RawConfig['blue'];
const urlOf = (v: SideConfig) => (typeof v === 'string' ? v : v.url);
const peerOf = (v: SideConfig) => (typeof v === 'string' ? undefined : v.peer);
const poolerOf = (v: SideConfig) => (typeof v === 'string' ? undefined : v.pooler);

/** The pooler instances the pointer names (one, or a fleet); none for the other pointers. */
function pgbouncerInstances(raw: RawConfig): ReadonlyArray<{ readonly admin: string; readonly ini: string }> {
  return raw.pointer.type === 'pgbouncer' ? (raw.pointer.instances ?? [{ admin: raw.pointer.admin!, ini: raw.pointer.ini! }]) : [];
}

/** What the schema cannot say: the sides distinct, each admin URL on PgBouncer's admin database, the pause within the switchover. */
function crossFieldProblems(raw: RawConfig, blue: ConnInfo, green: ConnInfo, pauseTimeoutMs: number): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (sameTarget(blue, green)) {
    problems.push({ path: 'green', message: `points at the same database as blue (${green.host}:${green.port}/${green.database})` });
  }
  pgbouncerInstances(raw).forEach((instance, i) => {
    if (parseConnString(instance.admin).database !== 'pgbouncer') {
      problems.push({
        path: raw.pointer.type === 'pgbouncer' && raw.pointer.instances ? `pointer.instances[${i}].admin` : 'pointer.admin',
        message: 'must connect to the "pgbouncer" admin database (…/pgbouncer)',
      });
    }
  });
  if (pauseTimeoutMs > raw.switchover.timeoutMs) {
    problems.push({ path: 'switchover.pauseTimeoutMs', message: 'must not exceed switchover.timeoutMs' });
  }
  return problems;
}

/** The passwords in every connection string the config holds, for redaction. */
function connectionSecrets(raw: RawConfig, blue: ConnInfo, green: ConnInfo): string[] {
  const peers = [peerOf(raw.blue), peerOf(raw.green)].filter((p): p is string => !!p);
  return [blue, green, ...pgbouncerInstances(raw).map((x) => parseConnString(x.admin)), ...peers.map(parseConnString)].flatMap(secretsOf);
}

/** The pointer with its files resolved against the config's folder. */
function resolvePointer(raw: RawConfig, abs: (p: string) => string): PointerConfig {
  if (raw.pointer.type === 'pgbouncer') {
    return {
      type: 'pgbouncer',
      database: raw.pointer.database,
      instances: pgbouncerInstances(raw).map((x) => ({ admin: normalizeConnString(x.admin), ini: abs(x.ini) })),
    };
  }
  return raw.pointer.type === 'file' ? { ...raw.pointer, path: abs(raw.pointer.path) } : raw.pointer;
}

/** Where clients reach a side (its pooler) and where the other side replicates from (its peer). */
function sideAddresses(info: ConnInfo, v: SideConfig): SideAddresses {
  const pooler = poolerOf(v) ? parseHostPort(poolerOf(v)!)! : { host: info.host, port: info.port };
  const peer = peerOf(v);
  return { pooler: { ...pooler, database: info.database }, peer: peer ? normalizeConnString(peer) : formatConnString(info) };
}

function resolveGuard(guard: RawConfig['guard']): Config['guard'] {
  return (
    guard && {
      intervalMs: parseDuration(guard.interval)!,
      checks: guard.checks,
      rollbackAfter:
        'failures' in guard.rollbackAfter
          ? guard.rollbackAfter
          : { ratio: guard.rollbackAfter.ratio, withinMs: parseDuration(guard.rollbackAfter.within)! },
      allowDataLoss: guard.allowDataLoss,
    }
  );
}

export function parseConfig(text: string, file: string, env: Readonly<Record<string, string | undefined>>): Config {
  const secrets: string[] = [];
  const raw = readRawConfig(text, file, env, secrets);
  const blue = parseConnString(urlOf(raw.blue));
  const green = parseConnString(urlOf(raw.green));
  // Short by default: while PAUSE waits for a transaction to end, every other client waits too.
  const pauseTimeoutMs = raw.switchover.pauseTimeoutMs ?? Math.min(2_000, raw.switchover.timeoutMs);
  const problems = crossFieldProblems(raw, blue, green, pauseTimeoutMs);
  if (problems.length > 0) throw new ConfigInvalidError(file, problems);
  secrets.push(...connectionSecrets(raw, blue, green));

  const base = path.dirname(path.resolve(file));
  const abs = (p: string) => path.resolve(base, p);
  const stateDir = abs(raw.stateDir);
  return {
    file: path.resolve(file),
    blue: formatConnString(blue),
    green: formatConnString(green),
    addresses: { blue: sideAddresses(blue, raw.blue), green: sideAddresses(green, raw.green) },
    mode: raw.mode,
    migrations:
      raw.migrations && 'dir' in raw.migrations ? { dir: abs(raw.migrations.dir), timeoutMs: raw.migrations.timeoutMs } : raw.migrations,
    pointer: resolvePointer(raw, abs),
    rollbackWindowMs: parseDuration(raw.rollbackWindow) ?? 86_400_000,
    switchover: {
      timeoutMs: raw.switchover.timeoutMs,
      pauseTimeoutMs,
      maxLagBytes: raw.switchover.maxLagBytes,
      verify: raw.switchover.verify,
      blockers: raw.switchover.blockers,
      unloggedCopyMaxRows: raw.switchover.unloggedCopyMaxRows,
    },
    stateDir,
    // Replicate mode streams by default: blue, kept intact and in sync through the window, is the fallback.
    clone: { backup: raw.clone.backup ?? (raw.mode === 'replicate' ? 'none' : 'dump') },
    notify: raw.notify,
    guard: resolveGuard(raw.guard),
    dumpDir: raw.dumpDir ? abs(raw.dumpDir) : path.join(stateDir, 'dumps'),
    binDir: raw.tools.binDir ? abs(raw.tools.binDir) : undefined,
    roles: { ...raw.roles, passwordsFile: raw.roles.passwordsFile ? abs(raw.roles.passwordsFile) : undefined },
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
