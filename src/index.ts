/**
 * The library API of pg-bluegreen (the `bluegreen` CLI is one user of it): load a config, build the
 * deps, and call the commands. Each command returns its report; none sets an exit code or prints.
 */
export { parseConfig, type Config } from './core/config.js';
export { BlueGreenError, ConfigInvalidError, ExitCode } from './core/errors.js';
export type { Report, StepResult } from './core/report.js';
export type { CutoverState } from './core/state.js';
export type { CompareResult } from './core/compare-model.js';
export { createDeps, loadConfig, type Deps } from './commands/context.js';
export { _preflight as preflight } from './commands/preflight.js';
export { _clone as clone } from './commands/clone.js';
export { _migrate as migrate } from './commands/migrate.js';
export { _compare as compare } from './commands/compare.js';
export { _switchover as switchover, _rollback as rollback } from './commands/switchover.js';
export { _finalize as finalize } from './commands/finalize.js';
export { _abort as abort } from './commands/abort.js';
export { _resume as resume } from './commands/resume.js';
export { _status as status } from './commands/status.js';
export { _run as run } from './commands/run.js';
export { startSandbox, type Sandbox } from './sandbox/sandbox.js';
