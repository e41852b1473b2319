#!/usr/bin/env bash
# `npm run shop`: from a fresh clone to a running storefront. Installs what is missing, starts
# PostgreSQL and Redis if needed, migrates and seeds the database, builds, then runs web + worker.
# Safe to run again: every step is idempotent.
#
# With flags it runs a cluster instead (tools/cluster/main.ts): `npm run shop -- --web 2 --workers 3`, or
# `npm run cluster` (`--cluster` alone: the cluster's defaults). The flags and ports are checked before
# anything is built or started.
set -euo pipefail
cd "$(dirname "$0")/.."

export NEXT_TELEMETRY_DISABLED=1
say() { printf '\nshop: %s\n' "$*"; }

cluster=()
for arg in "$@"; do
  [[ "$arg" == --cluster ]] || cluster+=("$arg")
  if [[ "$arg" == --help ]]; then exec node --import tsx tools/cluster/main.ts --help; fi
done

check_cluster() { node --import tsx tools/cluster/main.ts --check ${cluster[@]+"${cluster[@]}"}; }

# Bad flags are refused before anything else runs (once the npm packages are there to check them).
if [[ $# -gt 0 && -x node_modules/.bin/tsx ]]; then check_cluster; fi

bash scripts/setup.sh

if [[ $# -gt 0 ]]; then
  check_cluster
  bash scripts/ensure-nginx.sh >/dev/null
fi

say "migrating the database"
npm run --silent db:migrate

say "seeding the catalogue"
npm run --silent db:seed

say "building the storefront"
npm run --silent build

if [[ $# -gt 0 ]]; then
  say "starting the cluster (Ctrl+C stops every process)"
  NODE_ENV=production exec node --import tsx tools/cluster/main.ts ${cluster[@]+"${cluster[@]}"}
fi

say "starting web + worker (Ctrl+C stops both); the web process prints the address to open"
# One readable line per log entry at a terminal; `npm start` alone writes JSON, one object per line.
export LOG_FORMAT="${LOG_FORMAT:-pretty}"
exec npm run --silent start
