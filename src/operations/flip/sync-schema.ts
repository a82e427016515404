/**
 * Before the pause (replicate mode): what the side we leave changed in its schema is carried to the side
 * we go to, and what could not be is judged: refused, or given up with --accept-data-loss. Carrying a
 * table or a column copies rows and may take a while: before the budget and the pause.
 */
import type { SchemaSnapshot } from '../../core/schema-diff.js';
import type { Loss } from '../../core/window.js';
import { readSchema } from '../../adapters/catalog/schema-snapshot.js';
import { assess, carry, lossRefusal } from '../../commands/sync-schema.js';
import type { FlipOperation } from './context.js';

export interface SchemaSynced {
  /** What the flip gives up (accepted with --accept-data-loss); undefined when lossless. */
  readonly acceptedLosses?: ReadonlyArray<Loss>;
  /** The side traffic goes to, as it starts serving: its later DDL is judged against this. */
  readonly toSchemaAtFlip: SchemaSnapshot;
}

export const syncSchema: FlipOperation<void, SchemaSynced> = {
  name: 'sync-schema',
  title: (ctx) => `Carrying ${ctx.flip.from}'s schema changes to ${ctx.flip.to}; checking nothing would be lost`,
  unbudgeted: true,
  // The snapshot is for this run's own record of the new side's baseline: the journal, rewritten inside the pause, keeps the rest.
  journalOutput: (synced) => ({ acceptedLosses: synced.acceptedLosses }),
  run: async (ctx) => {
    const { deps, state, flip } = ctx;
    const { from, to } = ctx.sessions;
    const verdict = await assess(deps, state, from, to, flip.from);
    const outcome = await carry(deps, state, from, to, verdict, ctx.acceptDataLoss);
    const after = outcome.carried.length ? await assess(deps, state, from, to, flip.from) : verdict;
    if (after.losses.length && !ctx.acceptDataLoss) throw lossRefusal(flip.direction, after);
    const acceptedLosses = after.losses.length ? after.losses : undefined;
    // Read once the side is frozen, so it holds still.
    const toSchemaAtFlip = await readSchema(to);
    const carried = outcome.carried.length ? `carried ${outcome.carried.length}: ${outcome.carried.join('; ')}` : 'nothing to carry';
    return {
      output: { acceptedLosses, toSchemaAtFlip },
      detail: acceptedLosses ? `${carried}; ACCEPTED LOSS of ${acceptedLosses.map((l) => l.object).join(', ')}` : `${carried}; lossless`,
    };
  },
};
