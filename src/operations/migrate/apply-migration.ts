/**
 * Applies one migration file to green, in its own transaction unless it opts out, and records it in
 * the history table with it. No undo: a migration that fails is rolled back whole by PostgreSQL (or,
 * outside a transaction, says what stays applied); those applied before it stay, recorded, and
 * `bluegreen migrate --down` reverts the latest with its down script when the operator wants that.
 */
import { MigrationError } from '../../core/errors.js';
import { uncheckedReason } from '../../core/migration-lint.js';
import type { Migration } from '../../core/migrations.js';
import { recordApplied } from '../../adapters/migration-history.js';
import { runScript } from '../../adapters/migration-script.js';
import { cancelRunningQuery, type Client } from '../../adapters/pg.js';
import type { Operation } from '../operation.js';
import type { LockedCtx, MigrationDone } from './context.js';

/**
 * `migrations.timeoutMs`: past it the running migration's statement is cancelled from another session.
 * A migration in a transaction is then rolled back whole, as any failure; the error says why.
 */
async function withTimeLimit(
  url: string,
  green: Client,
  timeoutMs: number | undefined,
  m: Migration,
  secrets: ReadonlyArray<string>,
  run: () => Promise<void>,
): Promise<void> {
  if (!timeoutMs) return run();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void cancelRunningQuery(url, green, secrets);
  }, timeoutMs);
  try {
    await run();
  } catch (error) {
    if (!timedOut) throw error;
    const what = m.transactional
      ? 'nothing of it was applied'
      : 'it ran outside a transaction, so the statements that finished before stay applied';
    throw new MigrationError(`${m.upFile} ran past migrations.timeoutMs (${timeoutMs} ms) and was cancelled: ${what}`, {
      hint:
        `${m.transactional ? 'Green is as it was before this migration. ' : ''}Find what made it slow (a lock held on green, ` +
        'a large table rewrite), or raise migrations.timeoutMs, then run `bluegreen migrate` again.',
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}

export function applyMigration(m: Migration): Operation<LockedCtx, void, MigrationDone> {
  return {
    name: m.upFile,
    title: () => `applying ${m.upFile}`,
    ownProgress: true,
    // The statement that failed, PostgreSQL's message being the line before it.
    failureDetail: (error) => error.message.split('\n')[1]?.trim(),
    run: async ({ deps, green }) => {
      const { config, progress } = deps;
      progress.start(`applying ${m.upFile}`);
      const start = performance.now();
      try {
        await withTimeLimit(config.green, green, config.migrations?.timeoutMs, m, config.secrets, () =>
          runScript(green, m, m.upFile, m.up, m.transactional, config.secrets, async () => {
            await recordApplied(green, m, Math.round(performance.now() - start), deps.who, uncheckedReason(m.up));
          }),
        );
      } catch (error) {
        progress.fail(`${m.upFile} failed`);
        throw error;
      }
      progress.succeed(`applied ${m.upFile} (${Math.round(performance.now() - start)} ms)`);
      return { output: { version: m.version } };
    },
  };
}
