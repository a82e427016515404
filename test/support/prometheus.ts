import { expect } from 'vitest';

/** A strict reader of Prometheus's text exposition format (0.0.4): every line is a comment we know, or one sample. */
export function parsePrometheus(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  expect(text.endsWith('\n')).toBe(true);
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  const typed = new Map<string, string>();
  const helped = new Set<string>();
  for (const line of text.slice(0, -1).split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line))) {
      expect(helped.has(m[1]), `second HELP for ${m[1]}`).toBe(false);
      helped.add(m[1]);
    } else if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      expect(typed.has(m[1]), `second TYPE for ${m[1]}`).toBe(false);
      expect(samples.some((s) => s.name === m![1]), `TYPE after samples of ${m[1]}`).toBe(false);
      typed.set(m[1], m[2]);
    } else if ((m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|NaN|\+Inf|-Inf))$/.exec(line))) {
      expect(typed.has(m[1]), `sample of ${m[1]} before its TYPE`).toBe(true);
      const labels: Record<string, string> = {};
      for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
      samples.push({ name: m[1], labels, value: Number(m[3]) });
    } else {
      throw new Error(`not Prometheus text format: ${JSON.stringify(line)}`);
    }
  }
  return samples;
}
