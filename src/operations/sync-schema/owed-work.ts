/**
 * Work a run cut short leaves owed, written down in the state folder before it is started: partitions
 * made or attached on the standby whose rows are still to be checked, and columns whose values were
 * being copied by key (once the publication covers them the next run sees nothing to carry).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { CarryOutcome } from '../../adapters/schema-carry.js';
import { writeFileAtomic } from '../../adapters/state-store.js';

export interface OwedList<T> {
  /** What an earlier run left owed. */
  readonly owed: ReadonlyArray<T>;
  /** Written down before the work starts. */
  save(items: ReadonlyArray<T>): void;
  /** The work is done. */
  clear(): void;
}

function owedList<T>(file: string): OwedList<T> {
  return {
    owed: existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T[]) : [],
    save: (items) => writeFileAtomic(file, JSON.stringify(items)),
    clear: () => rmSync(file, { force: true }),
  };
}

export interface OwedWork {
  /** Partitions (tables) whose rows are to be checked on the standby. */
  readonly partitionChecks: OwedList<string>;
  /** Columns whose values are to be copied by key. */
  readonly columnCopies: OwedList<CarryOutcome['columnsToCopy'][number]>;
}

export function owedWork(stateDir: string, cutoverId: string, to: string): OwedWork {
  return {
    partitionChecks: owedList(path.join(stateDir, `${cutoverId}.partition-checks-${to}.json`)),
    columnCopies: owedList(path.join(stateDir, `${cutoverId}.column-copies-${to}.json`)),
  };
}
