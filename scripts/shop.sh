#!/usr/bin/env bash
# `npm run shop`: from a fresh clone to a running storefront. Installs what is missing, starts
# PostgreSQL and Redis if needed, migrates and seeds the database, builds, then runs web + worker.
# Safe to run again: every step is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

export NEXT_TELEMETRY_DISABLED=1
say() { printf '\nshop: %s\n' "$*"; }

bash scripts/setup.sh

say "migrating the database"
npm run --silent db:migrate

say "seeding the catalogue"
npm run --silent db:seed

say "building the storefront"
npm run --silent build

say "starting web + worker (Ctrl+C stops both); the web process prints the address to open"
exec npm run --silent start
