/** The commands that move traffic or close the cutover: switchover, rollback, sync-schema, reseed, finalize, abort, resume. */
import { _abort } from '../../commands/abort.js';
import { _finalize } from '../../commands/finalize.js';
import { _resume, type ResumeResult } from '../../commands/resume.js';
import { _syncSchema, type SyncSchemaResult } from '../../commands/sync-schema.js';
import { _rollback, _switchover } from '../../commands/switchover.js';
import { _reseed } from '../../commands/reseed.js';
import { blockersOption, configOption, dryRunOption, flag, jsonOption } from '../options.js';
import { defineCommand } from '../register.js';
import { dryRunNote, renderSteps, stepsReport } from '../render.js';

export const switchoverCommand = defineCommand({
  name: 'switchover',
  description: 'point traffic at green: pause, sync sequences, open green, flip, resume',
  options: {
    config: configOption(),
    json: jsonOption(),
    dryRun: dryRunOption(),
    acceptDataLoss: flag(
      '--accept-data-loss',
      'switch over although DDL on blue since the clone cannot be carried to green (what is given up is recorded)',
    ),
    blockers: blockersOption(),
  },
  action: (cli, o) =>
    cli.execute(
      o,
      (deps) => _switchover(deps, { dryRun: o.dryRun, acceptDataLoss: o.acceptDataLoss, blockers: o.blockers }),
      (r) => {
        const serving = r.ok && !o.dryRun ? '\n\nGreen serves. Blue is kept read-only for the rollback window: `bluegreen status`.' : '';
        return `${stepsReport(o.dryRun ? 'Switchover plan' : 'Switchover')(r)}${serving}${dryRunNote(o.dryRun)}`;
      },
    ),
});

export const rollbackCommand = defineCommand({
  name: 'rollback',
  description: 'point traffic back at blue within the rollback window',
  options: {
    config: configOption(),
    json: jsonOption(),
    dryRun: dryRunOption(),
    acceptDataLoss: flag(
      '--accept-data-loss',
      'roll back although something would be lost: freeze mode, rows written on green; ' +
        'replicate mode, what DDL on green made impossible to carry (recorded)',
    ),
    blockers: blockersOption(),
  },
  action: (cli, o) =>
    cli.execute(
      o,
      (deps) => _rollback(deps, { dryRun: o.dryRun, acceptDataLoss: o.acceptDataLoss, blockers: o.blockers }),
      (r) => `${stepsReport(o.dryRun ? 'Rollback plan' : 'Rollback')(r)}${dryRunNote(o.dryRun)}`,
    ),
});

export const syncSchemaCommand = defineCommand({
  name: 'sync-schema',
  description:
    "carry the serving side's additive schema changes (tables, columns, enum values, indexes) to the standby, with their data, " +
    'and say what cannot be carried',
  options: { config: configOption(), json: jsonOption(), dryRun: dryRunOption() },
  helpAfter: `
During replication (replicate mode, from the clone until finalize) the serving side may change its schema: a
deploy adds a column, a table, an enum value. Replication does not carry DDL, so the standby side would lose
those values on the next flip. sync-schema makes the same changes on the standby, extends replication to them
and copies the values written before that by key. Every switchover and rollback runs it before its pause.
What cannot be carried (a dropped or retyped column, a dropped table, a relaxed constraint the standby still
enforces) is listed as a loss: exit 3, and the next flip refuses it without --accept-data-loss.
\`bluegreen status\` shows the same verdict at any moment.`,
  action: (cli, o) =>
    cli.execute(
      o,
      (deps) => _syncSchema(deps, { dryRun: o.dryRun }),
      (r) => renderSyncSchema(r, o.dryRun),
    ),
});

function renderSyncSchema(r: SyncSchemaResult, dryRun?: boolean): string {
  const carried = r.carried.length ? `\n${r.carried.map((c) => `  ${c}`).join('\n')}` : ' nothing (the schemas agree)';
  return (
    [
      `${dryRun ? 'Would carry' : 'Carried'} ${r.from} → ${r.to}:${carried}`,
      ...(r.notes.length ? ['', ...r.notes.map((n) => `note: ${n}`)] : []),
      ...(r.losses.length
        ? ['', `Cannot be carried (a flip to ${r.to} would lose them):`, ...r.losses.map((l) => `  ${l.object}: ${l.what}`)]
        : ['', `A flip to ${r.to} is lossless.`]),
    ].join('\n') + dryRunNote(dryRun)
  );
}

export const reseedCommand = defineCommand({
  name: 'reseed',
  description:
    'in the rollback window: rebuild replication green → blue after its slot lost the WAL it needed, so the rollback is lossless again',
  options: { config: configOption(), json: jsonOption(), dryRun: dryRunOption() },
  helpAfter: `
A slot that passes max_slot_wal_keep_size is invalidated: blue can never get the writes green took since from
it, and \`bluegreen rollback\` refuses (\`bluegreen status\` says so). reseed drops the broken subscription,
slot and publication, publishes green's tables again (in blue's columns) with a new slot, empties blue's copies
(blue serves nobody) and subscribes blue with copy_data, so PostgreSQL's table sync copies every table and then
streams green's writes. Green serves throughout. Raise max_slot_wal_keep_size on green so it does not recur.
Refused (exit 3) when the slot is not lost, and outside the rollback window.`,
  action: (cli, o) =>
    cli.execute(
      o,
      (deps) => _reseed(deps, { dryRun: o.dryRun }),
      (r) => `${stepsReport(o.dryRun ? 'Reseed plan' : 'Reseed')(r)}${dryRunNote(o.dryRun)}`,
    ),
});

export const finalizeCommand = defineCommand({
  name: 'finalize',
  description: 'close the rollback window: blue is retired (kept, frozen, not dropped)',
  options: { config: configOption(), dryRun: dryRunOption(), force: flag('--force', 'finalize before the rollback window ends') },
  action: (cli, o) =>
    cli.execute(
      o,
      (deps) => _finalize(deps, { dryRun: o.dryRun, force: o.force }),
      (r) => `${stepsReport('Finalize')(r)}${dryRunNote(o.dryRun)}`,
    ),
});

export const abortCommand = defineCommand({
  name: 'abort',
  description: 'give up the cutover before the switchover: blue serves and takes writes again',
  options: { config: configOption(), dryRun: dryRunOption() },
  action: (cli, o) =>
    cli.execute(
      o,
      (deps) => _abort(deps, { dryRun: o.dryRun }),
      (r) => `${stepsReport('Abort')(r)}${dryRunNote(o.dryRun)}`,
    ),
});

export const resumeCommand = defineCommand({
  name: 'resume',
  description: 'after a controller died: finish or cleanly abort what it was doing (safe to run any time)',
  options: { config: configOption(), json: jsonOption() },
  action: (cli, o) => cli.execute(o, (deps) => _resume(deps), renderResume),
});

function renderResume(r: ResumeResult): string {
  const outcome = r.outcome === 'nothing-to-resume' ? 'nothing was in progress' : r.outcome;
  return `${renderSteps(r.steps)}\n\nWas ${r.from}: ${outcome}. Now ${r.phase}, ${r.serving} serves.`;
}
