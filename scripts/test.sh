#!/usr/bin/env bash
# The whole test suite: unit (pure core), integration (real clusters and PgBouncer from the
# sandbox), end-to-end (the built CLI), and a smoke run of the benchmark script when it exists.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
# The code's shape: over-long functions and files, wide lines and import cycles may shrink, never grow.
node scripts/check-structure.mjs
# One format (prettier, 140 columns): `npm run format` writes it.
npx prettier --check src >/dev/null || { echo 'src/ is not formatted: run npm run format'; exit 1; }
npx vitest run "$@"
# A smoke run of the benchmark at a tiny size keeps the script working; the figures are not the point.
if [ "$#" -eq 0 ]; then
  node scripts/bench/run.mjs --quick --no-write >/dev/null
  echo "benchmark smoke run: ok"
fi
