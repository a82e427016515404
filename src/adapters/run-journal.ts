/**
 * The run's journal as a file in the state folder: `<cutover>.run-<command>.json`, rewritten atomically
 * after every step, so a controller killed anywhere leaves what its steps did and what they returned.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { RunJournal, RunRecord } from '../operations/operation.js';
import { writeFileAtomic } from './state-store.js';

export function journalFile(stateDir: string, cutover: string, command: string): string {
  return path.join(stateDir, `${cutover}.run-${command}.json`);
}

export function fileJournal(
  stateDir: string,
  cutover: string,
  command: string,
): RunJournal & { read(): RunRecord | undefined; clear(): void } {
  const file = journalFile(stateDir, cutover, command);
  return {
    write: async (record) => writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`),
    read: () => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunRecord) : undefined),
    clear: () => rmSync(file, { force: true }),
  };
}
