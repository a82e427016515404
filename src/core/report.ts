/**
 * The report model every multi-step command returns: the CLI, `--json`, the abort path and the
 * state record all read this one value.
 */

export type StepStatus = 'ok' | 'failed' | 'skipped';

export interface StepResult {
  readonly name: string;
  readonly status: StepStatus;
  readonly ms: number;
  /** One line an operator reads: what the step did or why it was skipped. */
  readonly detail?: string;
}

export interface Report {
  readonly ok: boolean;
  readonly steps: ReadonlyArray<StepResult>;
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string; readonly exitCode?: number };
}
