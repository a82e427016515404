/**
 * Seeing a cutover, as an operator would: a sandbox cutover through the built CLI with a notify hook,
 * then the report page loaded in a real headless Chromium (Debian's), `watch` in a pseudo-terminal and
 * in a pipe, and `status --prometheus` read by a strict parser.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Rig, startRig } from '../integration/helpers.js';
import { parsePrometheus } from '../support/prometheus.js';
import { bluegreen, CLI } from './run-cli.js';

const ARTIFACTS = path.resolve('test-artifacts');

describe('report, watch, Prometheus and the notify hook', () => {
  let rig: Rig;
  let env: Record<string, string>;
  const cli = (...args: string[]) => bluegreen([...args, '--config', rig.configFile], { env });
  const events = () => readFileSync(path.join(rig.dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; from?: string; to?: string; kind?: string; ok?: boolean; command?: string; outcome?: string });

  beforeAll(async () => {
    rig = await startRig({ config: { mode: 'replicate', notify: { command: 'cat >> events.jsonl; echo >> events.jsonl; echo "$BLUEGREEN_EVENT" >> event-types.txt' } } });
    env = rig.env;
    for (const command of ['clone', 'migrate', 'compare', 'status', 'switchover', 'status', 'status', 'rollback', 'status']) {
      const r = await cli(command);
      expect(r.exitCode, `${command}: ${r.stderr}`).toBe(0);
    }
    await cli('switchover');
    expect((await cli('finalize')).exitCode).toBe(3); // inside the window: blocked
  });
  afterAll(() => rig?.stop());

  it('the notify hook received every event of the cutover, in order, with BLUEGREEN_EVENT set', () => {
    const seen = events().map((e) => (e.type === 'phase' ? `${e.from}→${e.to}` : e.type === 'flip' ? `flip ${e.kind} ${e.ok ? 'ok' : 'undone'}` : `failure ${e.command} ${e.outcome}`));
    expect(seen).toEqual([
      'idle→cloning', 'cloning→ready',
      'ready→migrating', 'migrating→ready',
      'ready→switching-over', 'switching-over→switched-over', 'flip switchover ok',
      'switched-over→rolling-back', 'rolling-back→rolled-back', 'flip rollback ok',
      'rolled-back→switching-over', 'switching-over→switched-over', 'flip switchover ok',
      'failure finalize blocked',
    ]);
    expect(readFileSync(path.join(rig.dir, 'event-types.txt'), 'utf8').trim().split('\n')).toEqual(events().map((e) => e.type));
    for (const secret of [rig.sandbox.blue.password, rig.sandbox.green.password]) expect(readFileSync(path.join(rig.dir, 'events.jsonl'), 'utf8')).not.toContain(secret);
  });

  it('the report opens in Chromium with no console error, the timeline and the lag chart drawn', async () => {
    const out = path.join(rig.dir, 'cutover.html');
    const r = await cli('report', '--out', out);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`written to ${out}`);
    const json = JSON.parse((await cli('report', '--json')).stdout) as { data: { flips: unknown[]; lag: unknown[] } };
    expect(json.data.flips).toHaveLength(3);
    expect(json.data.lag.length).toBeGreaterThan(2);
    const html = readFileSync(out, 'utf8');
    for (const secret of [rig.sandbox.blue.password, rig.sandbox.green.password, rig.sandbox.pgbouncer.adminPassword]) expect(html).not.toContain(secret);

    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
      const problems: string[] = [];
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('request', (req) => !req.url().startsWith('file:') && problems.push(`network request: ${req.url()}`));
      await page.goto(`file://${out}`);
      expect(await page.title()).toMatch(/^Cutover \S+: pg-bluegreen report$/);
      // Every audited command: clone, migrate, compare, switchover, rollback, switchover, and the refused finalize.
      expect(await page.locator('#timeline rect').count()).toBe(7);
      expect(await page.locator('#commands').textContent()).toMatch(/finalize.*blocked/s);
      expect(await page.locator('#lag-chart path.lag').count()).toBeGreaterThanOrEqual(1);
      expect(await page.locator('#lag-chart path.lag').first().getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+)+$/);
      expect(await page.locator('svg.flip .pause').count()).toBe(3);
      expect(await page.locator('#compare tbody tr').count()).toBeGreaterThan(5);
      expect(await page.locator('#migrations tbody tr').count()).toBe(4);
      expect(await page.locator('#verdict').textContent()).toMatch(/rollback: lossless/);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'report.png'), fullPage: true });
      await page.pdf?.({ path: path.join(ARTIFACTS, 'report.pdf') }).catch(() => undefined);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('watch redraws a live view in a pseudo-terminal, and prints one line per reading into a pipe', async () => {
    // `script` gives the CLI a real pseudo-terminal, as an operator's ssh session would.
    const command = [process.execPath, CLI, 'watch', '--count', '3', '--interval', '300', '--config', rig.configFile].map((a) => `'${a}'`).join(' ');
    const tty = await execa('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, ...env, TERM: 'xterm' }, reject: false, stdin: 'ignore' });
    expect(tty.exitCode).toBe(0);
    expect((tty.stdout.match(/\x1b\[H\x1b\[2J/g) ?? []).length).toBe(3);
    expect(tty.stdout).toContain('bluegreen watch');
    expect(tty.stdout).toMatch(/green → blue\s+[▁▂▃▄▅▆▇█]{1,3} /);
    expect(tty.stdout).toMatch(/rollback\s+lossless/);
    const piped = await cli('watch', '--count', '2', '--interval', '200');
    expect(piped.exitCode).toBe(0);
    const lines = piped.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+ phase=switched-over serving=green green->blue=running lag=\d+ kB\/\d+\.\ds retained=\S+ \S+ window_left=\d+s rollback=lossless$/);
    expect(piped.stdout).not.toContain('\x1b[');
  });

  it('status --prometheus is valid text format with the figures', async () => {
    const r = await cli('status', '--prometheus');
    expect(r.exitCode).toBe(0);
    const samples = parsePrometheus(`${r.stdout.trimEnd()}\n`);
    const one = (name: string, labels: Record<string, string> = {}) => samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(one('bluegreen_phase', { phase: 'switched-over' })).toBe(1);
    expect(one('bluegreen_serving', { side: 'green' })).toBe(1);
    expect(one('bluegreen_replication_running', { direction: 'green_to_blue' })).toBe(1);
    expect(one('bluegreen_replication_lag_bytes', { direction: 'green_to_blue' })).toBeGreaterThanOrEqual(0);
    expect(one('bluegreen_last_write_pause_seconds', { kind: 'switchover' })).toBeGreaterThan(0);
    expect(one('bluegreen_rollback_window_seconds_left')).toBeGreaterThan(80_000);
    expect(one('bluegreen_next_flip_lossless')).toBe(1);
    writeFileSync(path.join(rig.dir, 'bluegreen.prom'), r.stdout);
  });
});
