/** What every step of a re-seed works with: the link being rebuilt and a session on each side. */
import type { Client } from '../../adapters/pg.js';
import type { ReplicationLink, Side } from '../../core/state.js';
import type { Deps } from '../../commands/context.js';

export interface ReseedContext {
  readonly deps: Deps;
  /** The names of the direction being rebuilt, kept as they were (status and the flips know them). */
  readonly link: ReplicationLink;
  /** The side serving: it publishes. */
  readonly publisher: Side;
  /** The side kept current for the next flip: emptied and copied again. */
  readonly standby: Side;
  readonly onPublisher: Client;
  readonly onStandby: Client;
}

/** A table as the publication lists it: schema, name and the columns both sides have. */
export interface PublishedTable {
  readonly schema: string;
  readonly name: string;
  readonly columns: ReadonlyArray<string>;
}
