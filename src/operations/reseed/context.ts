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
  /** A re-seed that did not finish, as the state recorded it: this one starts over whatever the slot says. */
  readonly unfinished?: { readonly startedAt: string; readonly emptiedAt?: string };
  /** Records, before the first row goes, that blue's copies are no longer whole (nothing may then serve from blue). */
  readonly markEmptied: () => Promise<void>;
}

/** A table as the publication lists it: schema, name and the columns both sides have. */
export interface PublishedTable {
  readonly schema: string;
  readonly name: string;
  readonly columns: ReadonlyArray<string>;
}
