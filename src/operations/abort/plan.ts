/**
 * Abort's runbook: blue back in charge before the switchover (or after an interrupted one). The clone's
 * undo, from its journal, is inside drop-replication; blue is opened whatever froze it.
 */
import { type Planned, step } from '../operation.js';
import type { AbortCtx } from './context.js';
import { dropReplication } from './drop-replication.js';
import { guardGreen } from './guard-green.js';
import { openBlue } from './open-blue.js';
import { pointerToBlue } from './pointer-to-blue.js';
import { resumePgbouncer } from './resume-pgbouncer.js';

export function abortPlan(): Planned<AbortCtx>[] {
  return [step(resumePgbouncer), step(pointerToBlue), step(openBlue), step(dropReplication, (o) => o.of(openBlue) ?? {}), step(guardGreen)];
}
