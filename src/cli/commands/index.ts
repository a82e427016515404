/** Every command, in the order `bluegreen --help` lists them: the order of a cutover, then the sandbox. */
import type { CommandEntry } from '../register.js';
import { cloneCommand, compareCommand, migrateCommand, preflightCommand, runCommand } from './cutover.js';
import { demoCommand } from './demo.js';
import {
  abortCommand,
  finalizeCommand,
  reseedCommand,
  resumeCommand,
  rollbackCommand,
  switchoverCommand,
  syncSchemaCommand,
} from './flip.js';
import { migrationsCommand } from './migrations.js';
import { guardCommand, reportCommand, statusCommand, watchCommand } from './observe.js';

export const COMMANDS: ReadonlyArray<CommandEntry> = [
  preflightCommand,
  cloneCommand,
  migrateCommand,
  migrationsCommand,
  compareCommand,
  switchoverCommand,
  rollbackCommand,
  syncSchemaCommand,
  reseedCommand,
  finalizeCommand,
  abortCommand,
  resumeCommand,
  statusCommand,
  reportCommand,
  watchCommand,
  guardCommand,
  runCommand,
  demoCommand,
];
