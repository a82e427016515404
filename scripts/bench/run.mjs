#!/usr/bin/env node
// `npm run bench`: builds a sandbox per size, seeds the demo's trading schema, and measures in one run,
// side by side with what an operator would use instead: clone, compare, replication catch-up, and the
// write pause of a switchover and a rollback under pgbench. Prints Markdown (medians, ratios, the
// machine) and writes the same as JSON to bench/results/. Usage:
//   npm run bench -- [--size-mb 200[,1000]] [--runs 3] [--rate 500] [--seconds 14] [--quick] [--render file.json]
//   npm run bench -- --tables 10,2000 --rtt-ms 0,2 [--pairs 3]   (the write pause grid: objects × network round trip;
//     each cell the median of --pairs switchover/rollback pairs under one pgbench run)
// --quick: a tiny size and one short run of everything, to check the script works (used by the tests).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchCatchup, benchClone, benchCloneMemory, benchCompare, benchPause, benchPauseCell, prepareForFlips } from './sections.mjs';
import { depsFor, seededSandbox } from './lib.mjs';
import { benchAppView } from './app-view.mjs';

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const quick = argv.includes('--quick');
// --only clone|compare|catchup|pause|app-view: one section (for a quick look at one figure; the record runs all).
const only = arg('only', undefined);
const wants = (section) => !only || only === section;
const sizes = (quick ? '5' : arg('size-mb', '200')).split(',').map(Number);
const runs = quick ? 1 : Number(arg('runs', '3'));
const rate = Number(arg('rate', '500'));
const seconds = quick ? 6 : Number(arg('seconds', '14'));

const machine = { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}`, node: process.version, postgres: 15, fsync: 'on' };
// --render <file.json>: print the Markdown of a recorded run again, measuring nothing.
const rendering = arg('render', undefined);
const results = rendering ? JSON.parse(readFileSync(rendering, 'utf8')) : { at: new Date().toISOString(), machine, runs, rate, sizes: [] };
const f = (x, d = 2) => (x === undefined || Number.isNaN(x) ? '—' : Number(x).toFixed(d));

// The grid: --tables and --rtt-ms (lists), each cell a sandbox of its own behind a delaying proxy.
const gridTables = arg('tables', undefined);
const gridRtt = arg('rtt-ms', undefined);
const grid = !rendering && (gridTables || gridRtt || only === 'pause-grid');
if (grid) {
  results.grid = [];
  for (const tables of (gridTables ?? '0,2000').split(',').map(Number)) {
    for (const rttMs of (gridRtt ?? '0,2').split(',').map(Number)) {
      process.stderr.write(`[bench] pause grid: ${tables} extra tables, ${rttMs} ms round trip\n`);
      results.grid.push(await benchPauseCell({ tables, rttMs, rate: quick ? 100 : Math.min(rate, 300), seconds: quick ? 5 : Math.max(8, Math.min(seconds, 10)), pairs: quick ? 1 : Number(arg('pairs', '3')) }));
    }
  }
}

for (const sizeMb of rendering || grid ? [] : sizes) {
  const box = await seededSandbox(sizeMb);
  try {
    const deps = depsFor(box.sb, box.work, 'replicate');
    if (only === 'clone-memory') {
      process.stderr.write(`[bench] ${f(box.mb, 0)} MB: streaming clone in a process of its own (time, peak memory)\n`);
      results.sizes.push({ sizeMb: box.mb, clone: [], compare: [], catchup: [], pause: [], cloneMemory: await benchCloneMemory(box, deps) });
      continue;
    }
    process.stderr.write(`[bench] ${f(box.mb, 0)} MB: clone\n`);
    const clone = await benchClone(box, deps, only === 'clone' || !only ? runs : 1);
    process.stderr.write(`[bench] ${f(box.mb, 0)} MB: compare\n`);
    const compare = wants('compare') ? await benchCompare(box, deps, runs) : [];
    process.stderr.write(`[bench] ${f(box.mb, 0)} MB: replication catch-up\n`);
    const catchup = wants('catchup') ? await benchCatchup(box, deps, { transactions: quick ? 400 : 20_000 }) : [];
    process.stderr.write(`[bench] ${f(box.mb, 0)} MB: write pause\n`);
    if (wants('pause')) await prepareForFlips(deps);
    const pause = wants('pause') ? await benchPause(box, deps, { rate, seconds }) : [];
    process.stderr.write(`[bench] ${f(box.mb, 0)} MB: the application's view (an idle transaction and a long query open)\n`);
    if (only === 'app-view') await prepareForFlips(deps);
    const appView = wants('app-view') ? await benchAppView(box, deps, { rate: Math.min(rate, 300), seconds: quick ? 5 : 8 }) : [];
    results.sizes.push({ sizeMb: box.mb, clone, compare, catchup, pause, appView });
  } finally {
    await box.stop();
  }
}

const out = [];
const m = results.machine;
out.push(`Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGb} GB, ${m.os}, Node ${m.node}, PostgreSQL 15, fsync on. Medians of ${results.runs} interleaved run${results.runs > 1 ? 's' : ''}; ${results.at.slice(0, 10)}.`);
for (const s of results.sizes) {
  // Every row also gets bluegreen's time as a ratio of it: the ratio against each baseline.
  const ours = (rows) => rows.find((r) => r.approach.startsWith('bluegreen'))?.seconds;
  if (!s.clone.length) continue;
  out.push('', `### ${f(s.sizeMb, 0)} MB`, '', '| clone into an empty green | seconds | MB/s | vs fastest baseline | bluegreen / this |', '|---|---|---|---|---|');
  for (const c of s.clone) out.push(`| ${c.approach} | ${f(c.seconds)} | ${f(c.mbPerSecond, 1)} | ${f(c.vsFastestBaseline)}x | ${c.approach.startsWith('bluegreen') ? '—' : `${f(ours(s.clone) / c.seconds)}x`} |`);
  if (s.compare.length) out.push('', '| compare both sides | seconds | vs plain content hash | bluegreen / this |', '|---|---|---|---|');
  for (const c of s.compare) out.push(`| ${c.approach} | ${f(c.seconds)} | ${f(c.vsPlainHash)}x | ${c.approach.startsWith('bluegreen') ? '—' : `${f(ours(s.compare) / c.seconds)}x`} |`);
  const k = s.catchup[0];
  if (k) out.push('', `Replication catch-up: ${k.transactions} single-row transactions straight to blue in ${f(k.burstSeconds)} s (${f(k.blueTps, 0)} tx/s); green was ${f(k.lagBytesAtBurstEnd / 1024, 0)} kB behind at the end of the burst and had everything ${f(k.catchUpSecondsAfterBurst, 3)} s later (${f(k.greenApplyTps, 0)} tx/s applied over the whole burst).`);
  const p = s.pause[0];
  if (p) out.push('', `| pgbench -R ${rate} through PgBouncer | switchover | rollback | same load, no flip | bare PAUSE→RELOAD→RESUME |`, '|---|---|---|---|---|',
    `| write pause measured by the tool (PAUSE → RESUME) | ${p.switchoverPauseMs} ms | ${p.rollbackPauseMs} ms | — | ${p.barePgbouncerPauseMs} ms |`,
    `| longest wait of any pgbench transaction | ${f(p.longestWaitSwitchoverMs, 1)} ms | ${f(p.longestWaitRollbackMs, 1)} ms | ${f(p.longestWaitNoFlipMs, 1)} ms | ${f(p.longestWaitBarePgbouncerMs, 1)} ms |`,
    '', `Failed transactions: ${p.failedTransactions}; lost writes: ${p.lostWrites}; ${f(p.tps, 0)} tx/s.`);
}
for (const s of results.sizes.filter((x) => x.appView?.length)) {
  out.push('', `| ${f(s.sizeMb, 0)} MB, pgbench through PgBouncer, one session idle in a transaction and one long query open | worst wait of any transaction | p99 of the worst client | outcome |`, '|---|---|---|---|');
  for (const a of s.appView) out.push(`| ${a.approach} | ${f(a.worstWaitMs, 1)} ms | ${f(a.worstClientP99Ms, 1)} ms | ${a.detail} |`);
}
const memory = results.sizes.filter((s) => s.cloneMemory?.length);
if (memory.length) {
  out.push('', '| streaming clone, in a process of its own | seconds | controller peak memory (max RSS) | controller CPU | steps (ms) |', '|---|---|---|---|---|');
  for (const s of memory) { const c = s.cloneMemory[0]; out.push(`| ${f(s.sizeMb, 0)} MB | ${f(c.seconds)} | ${f(c.maxRssMb, 0)} MB | ${c.cpuSeconds === undefined ? "—" : `${f(c.cpuSeconds)} s`} | ${c.steps.map(([n, ms]) => `${n} ${ms}`).join(', ')} |`); }
  if (memory.length > 1) out.push('', `Peak memory at ${f(memory.at(-1).sizeMb, 0)} MB against ${f(memory[0].sizeMb, 0)} MB: ${f(memory.at(-1).cloneMemory[0].maxRssMb / memory[0].cloneMemory[0].maxRssMb)}x for ${f(memory.at(-1).sizeMb / memory[0].sizeMb, 1)}x the data.`);
}
if (results.sizes.length > 1 && results.sizes.every((s) => s.pause.length)) {
  const [a, b] = [results.sizes[0], results.sizes[results.sizes.length - 1]];
  const longest = (s) => Math.max(s.pause[0].longestWaitSwitchoverMs, s.pause[0].longestWaitRollbackMs);
  const pauses = (s) => Math.max(s.pause[0].switchoverPauseMs, s.pause[0].rollbackPauseMs);
  out.push('', `Growth with size (${f(b.sizeMb, 0)} MB against ${f(a.sizeMb, 0)} MB): write pause ${f(pauses(b) / pauses(a))}x, longest wait ${f(longest(b) / longest(a))}x.`);
}
if (results.grid?.length) {
  out.push('', '| tables (each with a sequence) | round trip | switchover pause | rollback pause | bare PgBouncer PAUSE→RELOAD→RESUME | pause / bare | sequential round trips in the pause (≈) | failed | lost |', '|---|---|---|---|---|---|---|---|---|');
  const base = (t) => results.grid.find((c) => c.tables === t && c.rttMs === 0);
  for (const c of results.grid) {
    const pause = Math.max(c.switchoverPauseMs, c.rollbackPauseMs);
    const atZero = base(c.tables);
    const trips = c.rttMs > 0 && atZero ? (pause - Math.max(atZero.switchoverPauseMs, atZero.rollbackPauseMs)) / c.rttMs : undefined;
    out.push(`| ${c.tables} | ${c.rttMs} ms | ${c.switchoverPauseMs} ms | ${c.rollbackPauseMs} ms | ${c.barePgbouncerMs} ms | ${f(pause / c.barePgbouncerMs)}x | ${trips === undefined ? '—' : f(trips, 1)} | ${c.failedTransactions} | ${c.lostWrites} |`);
  }
  const small = Math.min(...results.grid.map((c) => c.tables));
  const large = Math.max(...results.grid.map((c) => c.tables));
  for (const rtt of [...new Set(results.grid.map((c) => c.rttMs))]) {
    const a = results.grid.find((c) => c.tables === small && c.rttMs === rtt);
    const b = results.grid.find((c) => c.tables === large && c.rttMs === rtt);
    if (a && b && a !== b) out.push('', `At ${rtt} ms: pause with ${large} tables = ${f(Math.max(b.switchoverPauseMs, b.rollbackPauseMs) / Math.max(a.switchoverPauseMs, a.rollbackPauseMs))}x the pause with ${small}.`);
  }
  out.push('', 'Each cell: the median of its flips (every one: switchover / rollback / bare, ms):', ...results.grid.map((c) => `- ${c.tables} tables, ${c.rttMs} ms: ${(c.switchoverPausesMs ?? [c.switchoverPauseMs]).join(', ')} / ${(c.rollbackPausesMs ?? [c.rollbackPauseMs]).join(', ')} / ${(c.barePausesMs ?? [c.barePgbouncerMs]).join(', ')}`));
  out.push('', 'In-pause steps (ms, medians), switchover / rollback:', ...results.grid.map((c) => `- ${c.tables} tables, ${c.rttMs} ms: ${JSON.stringify(c.switchoverSteps)} / ${JSON.stringify(c.rollbackSteps)}`));
}
console.log(out.join('\n'));
if (!rendering && !argv.includes('--no-write')) {
  const dir = path.resolve('bench/results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${results.at.replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stderr.write(`[bench] wrote ${file}\n`);
}
