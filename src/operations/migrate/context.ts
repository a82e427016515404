/** What the steps of `bluegreen migrate` work with. */
import type { Client } from '../../adapters/pg.js';
import type { Deps } from '../../commands/context.js';

export interface MigrateCtx {
  readonly deps: Deps;
  /** --dry-run: the effect is checked and shown, nothing is refused for it and nothing runs on green. */
  readonly dryRun: boolean;
}

/** The steps that change green: they run on one session of green holding the migrations' advisory lock. */
export interface LockedCtx extends MigrateCtx {
  readonly green: Client;
}

/** What a step that applied or reverted a migration records: its version. */
export interface MigrationDone {
  readonly version: string;
}
