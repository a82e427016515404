#!/usr/bin/env node
// `npm run check:structure`: the code's shape, read with TypeScript's own parser. Prints the longest
// functions (their own lines: nested functions and template text such as SQL not counted), the
// largest files, lines over the width limit and import cycles in src/, and fails when something is
// over a limit that scripts/structure-baseline.json does not already record at that size. The
// baseline is a ratchet: what it lists may shrink or go, never grow; nothing new may join it.
//   node scripts/check-structure.mjs [--write-baseline]
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const LIMITS = { functionLines: 80, fileLines: 450, lineWidth: 140 };
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const baselineFile = path.join(root, 'scripts', 'structure-baseline.json');

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

const isFunction = (n) => ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isArrowFunction(n) || ts.isFunctionExpression(n) || ts.isConstructorDeclaration(n) || ts.isGetAccessor(n) || ts.isSetAccessor(n);

function functionName(node, sf) {
  if (node.name) return node.name.getText(sf);
  const p = node.parent;
  if (p && ts.isVariableDeclaration(p)) return p.name.getText(sf);
  if (p && ts.isPropertyAssignment(p)) return p.name.getText(sf);
  if (p && ts.isCallExpression(p)) return `${p.expression.getText(sf).slice(0, 40)}(…)`;
  return '(anonymous)';
}

/** Lines of `node` that belong to it: minus nested functions' lines and template literals' extra lines. */
function ownLines(node, sf) {
  const lineOf = (pos) => sf.getLineAndCharacterOfPosition(pos).line;
  const lines = new Set();
  for (let l = lineOf(node.getStart(sf)); l <= lineOf(node.getEnd()); l++) lines.add(l);
  const drop = (n) => { for (let l = lineOf(n.getStart(sf)) + 1; l <= lineOf(n.getEnd()); l++) lines.delete(l); };
  const visit = (n) => {
    if (n !== node && isFunction(n)) { drop(n); lines.delete(lineOf(n.getStart(sf))); return; }
    if (ts.isTemplateExpression(n) || ts.isNoSubstitutionTemplateLiteral(n)) { if (n.getText(sf).includes('\n')) drop(n); return; }
    ts.forEachChild(n, visit);
  };
  ts.forEachChild(node, visit);
  return lines.size;
}

const files = filesUnder(path.join(root, 'src'));
const functions = [];
const sizes = [];
const wide = [];
const imports = new Map();
for (const file of files) {
  const rel = path.relative(root, file);
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const lines = text.split('\n');
  sizes.push({ file: rel, lines: lines.length });
  lines.forEach((l, i) => { if (l.length > LIMITS.lineWidth) wide.push({ file: rel, line: i + 1, width: l.length }); });
  const deps = [];
  const visit = (n) => {
    if (isFunction(n)) functions.push({ file: rel, name: functionName(n, sf), line: sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1, lines: ownLines(n, sf) });
    if (ts.isImportDeclaration(n) && !n.importClause?.isTypeOnly) {
      const spec = n.moduleSpecifier.text;
      if (spec.startsWith('.')) deps.push(path.relative(root, path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'))));
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  imports.set(rel, deps);
}

// Import cycles (value imports only: a type-only import vanishes at run time).
const cycles = new Set();
const state = new Map();
const stack = [];
const walk = (f) => {
  state.set(f, 'open');
  stack.push(f);
  for (const d of imports.get(f) ?? []) {
    if (state.get(d) === 'open') cycles.add(stack.slice(stack.indexOf(d)).concat(d).join(' → '));
    else if (!state.has(d) && imports.has(d)) walk(d);
  }
  stack.pop();
  state.set(f, 'done');
};
for (const f of imports.keys()) if (!state.has(f)) walk(f);

const over = {
  functions: functions.filter((f) => f.lines > LIMITS.functionLines).map((f) => ({ key: `${f.file}:${f.name}`, size: f.lines })),
  files: sizes.filter((f) => f.lines > LIMITS.fileLines).map((f) => ({ key: f.file, size: f.lines })),
  lines: Object.entries(wide.reduce((m, w) => ({ ...m, [w.file]: (m[w.file] ?? 0) + 1 }), {})).map(([key, size]) => ({ key, size })),
  cycles: [...cycles].map((key) => ({ key, size: 1 })),
};

const top = (xs, n) => [...xs].sort((a, b) => b.lines - a.lines).slice(0, n);
console.log(`Longest functions (own lines; limit ${LIMITS.functionLines}):`);
for (const f of top(functions, 12)) console.log(`  ${String(f.lines).padStart(4)}  ${f.file}:${f.line} ${f.name}`);
console.log(`Largest files (limit ${LIMITS.fileLines}):`);
for (const f of top(sizes, 8)) console.log(`  ${String(f.lines).padStart(4)}  ${f.file}`);
console.log(`Lines over ${LIMITS.lineWidth} characters: ${wide.length} in ${over.lines.length} files`);
console.log(`Import cycles: ${cycles.size ? [...cycles].map((c) => `\n  ${c}`).join('') : 'none'}`);

if (process.argv.includes('--write-baseline')) {
  writeFileSync(baselineFile, `${JSON.stringify({ limits: LIMITS, over }, null, 2)}\n`);
  console.log(`wrote ${path.relative(root, baselineFile)}`);
  process.exit(0);
}
const baseline = existsSync(baselineFile) ? JSON.parse(readFileSync(baselineFile, 'utf8')).over : { functions: [], files: [], lines: [], cycles: [] };
const problems = [];
for (const kind of Object.keys(over)) {
  const known = new Map(baseline[kind].map((b) => [b.key, b.size]));
  for (const o of over[kind]) {
    if (!known.has(o.key)) problems.push(`new over the limit (${kind}): ${o.key} (${o.size})`);
    else if (o.size > known.get(o.key)) problems.push(`grew past its recorded size (${kind}): ${o.key} ${known.get(o.key)} → ${o.size}`);
  }
}
const recorded = Object.values(baseline).reduce((n, xs) => n + xs.length, 0);
const now = Object.values(over).reduce((n, xs) => n + xs.length, 0);
console.log(`Over the limits: ${now} (the baseline records ${recorded}; it may only shrink)`);
if (problems.length) {
  console.error(`\nstructure check failed:\n  ${problems.join('\n  ')}\nSplit what grew (a step a file, a helper a concern); the baseline is not to be raised.`);
  process.exit(1);
}
