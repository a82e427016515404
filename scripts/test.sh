#!/usr/bin/env bash
# The whole test suite: unit (pure core), integration (real clusters and PgBouncer from the
# sandbox), end-to-end (the built CLI), and a smoke run of the benchmark script when it exists.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
npx vitest run "$@"
