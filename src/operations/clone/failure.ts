/**
 * What a failed clone's undo did, as the clone's message says it. The runner has undone, in reverse,
 * every step that started (every undo tried, whatever failed): blue unfrozen, the subscription, slot
 * and publication dropped. Green keeps its partial copy for inspection (its steps have no undo). This
 * reads the outcome: which undo failed and why.
 */
import type { PlanOutcome } from '../runner.js';
import type { Outputs } from '../operation.js';
import { type CloneCtx, forwardNames } from './context.js';
import { createPublication } from './create-publication.js';
import { createSlot } from './create-slot.js';
import { forwardLinkNote, leftNotes } from './forward-link.js';
import { freezeBlue } from './freeze-blue.js';
import { subscribeGreen } from './subscribe-green.js';

export interface CloneUndone {
  /** The sentence after "Blue serves." in the hint. */
  readonly sentence: string;
  /** A drop failed: the forward link's names stay in the record (abort and the next clone drop by them). */
  readonly forwardLeft: boolean;
}

export function cloneUndone(ctx: CloneCtx, outcome: PlanOutcome & { readonly outputs: Outputs<CloneCtx> }): CloneUndone {
  const failed = new Map((outcome.undoErrors ?? []).map((e) => [e.step, e.error]));
  const notes = leftNotes(forwardNames(ctx), {
    subscription: failed.get(subscribeGreen.name as string),
    slot: failed.get(createSlot.name as string),
    publication: failed.get(createPublication.name as string),
  });
  const linkNote = ctx.record.state().forward || notes.length ? forwardLinkNote(notes) : '';
  if (!outcome.outputs.of(freezeBlue)?.frozen) return { sentence: linkNote, forwardLeft: notes.length > 0 };
  const unfreeze = failed.get(freezeBlue.name as string);
  return {
    sentence: unfreeze
      ? ` Blue could NOT be unfrozen (${unfreeze.message.split('\n')[0]}): run \`bluegreen abort\`.`
      : ' Blue was unfrozen and takes writes again.',
    forwardLeft: notes.length > 0,
  };
}
