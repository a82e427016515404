/**
 * copy-large-objects: logical replication and a schema-only dump carry none. Read under the slot's
 * snapshot, before any reader ends it; a database-level object, so no schema is needed on green yet.
 */
import { cloneLargeObjects } from '../../commands/flip-large-objects.js';
import type { Operation } from '../operation.js';
import { type CloneCtx, noted, onBlue, onGreen, type SnapshotInput } from './context.js';

export const copyLargeObjects: Operation<CloneCtx, SnapshotInput, void> = {
  name: 'copy-large-objects',
  title: () => "Copying blue's large objects (logical replication and a schema-only dump carry none)",
  run: async (ctx, { snapshot }) =>
    noted(
      await onBlue(ctx, (blue) =>
        onGreen(ctx, (green) => cloneLargeObjects(blue, green, ctx.deps.config, ctx.record.state().id, snapshot, ctx.streaming)),
      ),
    ),
};
