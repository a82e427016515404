/** resume: PgBouncer must not be left paused (a flip interrupted inside its pause). */
import type { Operation } from '../operation.js';
import type { AbortCtx } from './context.js';

export const resumePgbouncer: Operation<AbortCtx, void, void> = {
  name: 'resume',
  title: () => 'Making sure PgBouncer is not paused',
  run: async ({ deps }) => {
    if (!deps.pointer.canPause) return { skipped: 'file pointer' };
    await deps.pointer.resume();
    return { output: undefined };
  },
};
