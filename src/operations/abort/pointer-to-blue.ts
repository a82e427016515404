/** pointer-to-blue: traffic goes to blue (an interrupted switchover may have moved it). */
import { sideServedBy, sideTarget } from '../../adapters/pointer.js';
import type { Operation } from '../operation.js';
import type { AbortCtx } from './context.js';

export const pointerToBlue: Operation<AbortCtx, void, void> = {
  name: 'pointer-to-blue',
  title: () => 'Making sure the pointer serves blue',
  run: async ({ deps: { config, pointer } }) => {
    if (sideServedBy(config, await pointer.current()) === 'blue') return { output: undefined, detail: 'already on blue' };
    await pointer.flip(sideTarget(config, 'blue'), 'blue');
    return { output: undefined, detail: 'pointed back at blue' };
  },
};
