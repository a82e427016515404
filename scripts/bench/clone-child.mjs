// Runs one `bluegreen clone` in a process of its own and prints its time and peak memory as JSON: the
// benchmark's measure of the controller's memory against the database's size (the streaming clone
// must stay flat). Usage: node scripts/bench/clone-child.mjs <config.json>
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../dist/core/config.js';
import { createDeps } from '../../dist/commands/context.js';
import { _clone } from '../../dist/commands/clone.js';
import { silentProgress } from '../../dist/adapters/progress.js';

const file = process.argv[2];
const deps = createDeps(parseConfig(readFileSync(file, 'utf8'), file, process.env), silentProgress);
const t = performance.now();
const r = await _clone(deps);
const ms = performance.now() - t;
const cpu = process.cpuUsage();
console.log(JSON.stringify({ ok: r.ok, error: r.error?.message, seconds: ms / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024, cpuSeconds: (cpu.user + cpu.system) / 1e6, steps: r.steps.map((s) => [s.name, s.ms]) }));
