/**
 * The durable record of a cutover and the audit log, as files in the state folder (mode 0700,
 * files 0600). Writes are atomic (write, fsync, rename), so a controller killed mid-write leaves the
 * old record whole.
 */
import {
  accessSync,
  appendFileSync,
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
  chmodSync,
} from 'node:fs';
import path from 'node:path';
import { BlueGreenError } from '../core/errors.js';
import type { AuditEntry, CutoverState } from '../core/state.js';

export interface StateStore {
  load(): Promise<CutoverState | undefined>;
  save(state: CutoverState): Promise<void>;
  audit(entry: AuditEntry): Promise<void>;
  readonly dir: string;
}

/** Writes a file atomically with the given mode: the reader sees the old or the new text, never half. */
export function writeFileAtomic(file: string, text: string, mode = 0o600): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOTDIR'
        ? 'a part of the path is a file'
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? 'not writable'
          : code;
    throw new BlueGreenError(`cannot create ${dir}: ${why}`, {
      hint: 'Point stateDir / dumpDir in the config at a folder this user can write.',
    });
  }
}

/** Whether a folder can be created (if missing) and written: for preflight, leaves nothing behind it did not find. */
export function canWriteDir(dir: string): string | undefined {
  let existing = dir;
  while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  try {
    if (!statSync(existing).isDirectory()) return `${existing} is a file, not a folder`;
    accessSync(existing, constants.W_OK);
    const probe = path.join(existing, `.bluegreen-probe-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
    return undefined;
  } catch (error) {
    return `${existing} is not writable (${(error as NodeJS.ErrnoException).code})`;
  }
}

export function fileStateStore(dir: string): StateStore {
  const stateFile = path.join(dir, 'state.json');
  const auditFile = path.join(dir, 'audit.log');
  return {
    dir,
    async load() {
      if (!existsSync(stateFile)) return undefined;
      try {
        return JSON.parse(readFileSync(stateFile, 'utf8')) as CutoverState;
      } catch (error) {
        throw new BlueGreenError(`the state record ${stateFile} is unreadable: ${(error as Error).message}`, {
          hint: 'Restore it from a backup or inspect it by hand; do not delete it while a cutover is under way.',
        });
      }
    },
    async save(state) {
      ensurePrivateDir(dir);
      writeFileAtomic(stateFile, `${JSON.stringify(state, null, 2)}\n`);
      // Each cutover's record is kept under its id too: a report can be made of an earlier one.
      writeFileAtomic(path.join(dir, `cutover-${state.id}.json`), `${JSON.stringify(state)}\n`);
    },
    async audit(entry) {
      ensurePrivateDir(dir);
      appendFileSync(auditFile, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    },
  };
}

/** A cutover's own record (the current one or an earlier one), by id. */
export function loadCutover(dir: string, id: string): CutoverState | undefined {
  const file = path.join(dir, `cutover-${id}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as CutoverState) : undefined;
}

/** The audit log's entries, oldest first (one cutover's when given). */
export function readAudit(dir: string, cutover?: string): AuditEntry[] {
  const file = path.join(dir, 'audit.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEntry)
    .filter((e) => !cutover || e.cutover === cutover);
}

/** One reading of a replication direction's lag, kept for the report's chart. */
export interface LagSample {
  readonly at: string;
  readonly cutover: string;
  readonly direction: string;
  readonly lagBytes?: number;
  readonly lagSeconds?: number;
  readonly retainedBytes?: number;
  readonly running: boolean;
}

export function appendLagSamples(dir: string, samples: ReadonlyArray<LagSample>): void {
  if (!samples.length) return;
  ensurePrivateDir(dir);
  appendFileSync(path.join(dir, 'lag.jsonl'), samples.map((x) => `${JSON.stringify(x)}\n`).join(''), { mode: 0o600 });
}

export function readLagSamples(dir: string, cutover: string): LagSample[] {
  const file = path.join(dir, 'lag.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LagSample)
    .filter((x) => x.cutover === cutover);
}

/**
 * Where green's schema is recorded right after the clone and after each migrate run: compare tells
 * the migrations' changes from drift and from changes made on green by hand with them.
 */
export function schemaFile(stateDir: string, cutoverId: string, when: 'at-clone' | 'after-migrations'): string {
  return path.join(stateDir, `${cutoverId}.schema-${when}.json`);
}
