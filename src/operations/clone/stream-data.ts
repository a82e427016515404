/**
 * stream-data (clone.backup "none"): blue's rows from the slot's snapshot straight into green, several
 * tables (and block ranges of large ones) at once. A large table's indexes and keys are built as soon
 * as its rows are in, beside the others' rows; the rest of the post-data starts when the last row is in.
 * Not undone: green keeps its partial copy for inspection; the next clone re-creates it.
 */
import { syncSequences } from '../../adapters/catalog.js';
import { serverMajor } from '../../adapters/pg.js';
import { slotLag } from '../../adapters/replication.js';
import { type CopyUnit, planCopy, streamTables } from '../../adapters/stream-copy.js';
import { displayName } from '../../core/quote.js';
import { tableKey } from '../../core/post-data.js';
import type { Operation } from '../operation.js';
import { type BlueFacts, type CloneCtx, noted, onBlue, onGreen, release, type SnapshotInput } from './context.js';
import { startPostData } from './start-post-data.js';

const mb = (bytes: number, digits = 1) => (bytes / 1048576).toFixed(digits);

/** How the rows travelled: binary between equal majors, except the tables whose types only blue reads in binary. */
export function formatOf(units: ReadonlyArray<CopyUnit>, sameMajor: boolean): string {
  if (!sameMajor) return 'text';
  const inText = [...new Set(units.filter((u) => !u.binary).map((u) => displayName(u.schema, u.name)))];
  if (!inText.length) return 'binary';
  const named = inText.length > 5 ? `${inText.slice(0, 5).join(', ')} and ${inText.length - 5} more` : inText.join(', ');
  return `binary; in text: ${named} (a reg* or extension type)`;
}

/** What the slot makes blue keep while the rows stream: read every two seconds for the progress line. */
function watchRetainedWal(ctx: CloneCtx, slot: string | undefined): { now(): number | undefined; stop(): void } {
  let retained: number | undefined;
  const timer = slot
    ? setInterval(
        () =>
          void onBlue(ctx, (b) => slotLag(b, slot)).then(
            (l) => (retained = l.retainedBytes),
            () => undefined,
          ),
        2000,
      )
    : undefined;
  return { now: () => retained, stop: () => clearInterval(timer) };
}

export const streamData: Operation<CloneCtx, Pick<BlueFacts, 'blueMajor'> & SnapshotInput & { readonly slot?: string }, void> = {
  name: 'stream-data',
  title: (ctx) => `Streaming blue's rows into green (${ctx.jobs} at once)`,
  run: async (ctx, { blueMajor, snapshot, slot }) => {
    const { config, progress } = ctx.deps;
    const greenMajor = await onGreen(ctx, serverMajor);
    const units = await onBlue(ctx, (b) => planCopy(b, ctx.jobs));
    const total = units.reduce((n, u) => n + u.bytes, 0);
    const start = performance.now();
    let lastShown = 0;
    const wal = watchRetainedWal(ctx, slot);
    // A large table's indexes and keys are built as soon as its rows are in, beside the others' rows
    // (one build at a time: the streams keep the rest of the CPU); what is left, after.
    const post = (ctx.live.postData = await startPostData(ctx, blueMajor, units, snapshot));
    const result = await streamTables({
      blueUrl: config.blue,
      greenUrl: config.green,
      snapshot: snapshot ?? '',
      units,
      jobs: ctx.jobs,
      binary: greenMajor === blueMajor,
      secrets: config.secrets,
      onTableDone: (schema, name) => post.tableDone(tableKey(schema, name)),
      onProgress: (p) => {
        if (performance.now() - lastShown < 1000 && p.unitsDone < units.length) return;
        lastShown = performance.now();
        const seconds = (performance.now() - start) / 1000;
        const rate = p.bytes / Math.max(seconds, 0.001);
        const left = total > p.bytes ? (total - p.bytes) / Math.max(rate, 1) : 0;
        const retained = wal.now();
        progress.update(
          `Streaming: ${mb(p.bytes, 0)} MB, ${p.rows} rows, ${mb(rate)} MB/s, ` +
            `about ${Math.round(left)} s left (${p.unitsDone}/${units.length} parts)` +
            (retained !== undefined ? `; blue keeps ${mb(retained, 0)} MB of WAL for the slot` : ''),
        );
      },
    })
      // A failed stream: the post-data work is waited for by `settle`, before the failure is handled.
      .finally(() => wal.stop());
    // The rest of the indexes and constraints start now, beside the large table still being built.
    post.streamsDone();
    await release(ctx.live);
    // Sequences are not in a schema-only dump's data: at least blue's values now (ahead of the snapshot's, which is safe).
    await onBlue(ctx, (b) => onGreen(ctx, (g) => syncSequences(b, g)));
    const seconds = (performance.now() - start) / 1000;
    const retained = slot ? (await onBlue(ctx, (b) => slotLag(b, slot))).retainedBytes : undefined;
    return noted(
      `${result.rows} rows, ${mb(result.bytes)} MB in ${seconds.toFixed(1)} s ` +
        `(${(result.bytes / 1048576 / Math.max(seconds, 0.001)).toFixed(1)} MB/s, ` +
        `${formatOf(units, greenMajor === blueMajor)}, ${units.length} parts)` +
        (retained !== undefined ? `; WAL kept on blue for the slot meanwhile: ${mb(retained)} MB` : ''),
    );
  },
};
