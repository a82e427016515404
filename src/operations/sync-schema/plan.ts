/**
 * `bluegreen sync-schema` as a runbook: read both sides and judge what the next flip would carry and
 * lose (`assess`), carry it (the one step), judge again, and refuse with the losses that are left.
 * Nothing is undone: what is carried is additive, and a run cut short leaves its owed work written down.
 */
import type { WindowVerdict } from '../../core/window.js';
import { type Planned, step } from '../operation.js';
import { carryChanges, type SyncCtx } from './carry-changes.js';

export const syncSchemaPlan = (verdict: WindowVerdict): ReadonlyArray<Planned<SyncCtx>> => [step(carryChanges, () => verdict)];
