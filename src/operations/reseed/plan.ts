/**
 * `bluegreen reseed`, the runbook: a direction whose slot lost its WAL (max_slot_wal_keep_size) is built
 * again from the serving side, so the next flip can be lossless again. Sequences, large objects and
 * unlogged tables are carried by the flip itself, inside its pause, as always.
 */
import { step } from '../operation.js';
import { checkLink } from './check-link.js';
import type { ReseedContext } from './context.js';
import { dropOldLink } from './drop-old-link.js';
import { emptyStandby } from './empty-standby.js';
import { publish } from './publish.js';
import { copyTables, subscribeWithCopy } from './subscribe-with-copy.js';

export const reseedPlan = [
  step(checkLink),
  step(dropOldLink),
  step(publish),
  step(emptyStandby, (o) => ({ tables: o.need(publish).tables })),
  step(subscribeWithCopy),
  step(copyTables),
] as const;

export type { ReseedContext };
