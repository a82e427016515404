/**
 * Every round the guard evaluates, one JSON line each in the state folder (`guard.jsonl`, 0600): what
 * `status` shows, what the report draws, and what a guard started again counts its failures from.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { GuardRound } from '../core/guard.js';
import { ensurePrivateDir } from './state-store.js';

const file = (dir: string) => path.join(dir, 'guard.jsonl');

export function appendGuardRound(dir: string, round: GuardRound): void {
  ensurePrivateDir(dir);
  appendFileSync(file(dir), `${JSON.stringify(round)}\n`, { mode: 0o600 });
}

/** One cutover's rounds, oldest first; a line cut short by a kill mid-write is skipped. */
export function readGuardRounds(dir: string, cutover: string): GuardRound[] {
  if (!existsSync(file(dir))) return [];
  return readFileSync(file(dir), 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return line ? [JSON.parse(line) as GuardRound] : [];
      } catch {
        return [];
      }
    })
    .filter((r) => r.cutover === cutover);
}
