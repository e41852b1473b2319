#!/usr/bin/env bash
# Prepares a checkout to run: npm dependencies (when missing or older than package-lock.json), the
# generated Prisma client, then PostgreSQL and Redis (scripts/services.sh). Safe to run any number of times.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }
die() {
  printf 'setup: %s\n' "$@" >&2
  exit 1
}

command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
  die "Node.js 20.19 or newer (with npm) is needed: https://nodejs.org/ (or nvm install 20)."
node -e '
  const [major, minor] = process.versions.node.split(".").map(Number);
  process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1);
' || die "Node.js $(node -v) is too old; this project needs 20.19 or newer."

# npm records what it installed in node_modules/.package-lock.json.
needs_install() {
  [[ -d node_modules ]] || return 0
  local stamp=node_modules/.package-lock.json
  [[ -f "$stamp" ]] || stamp=node_modules
  if [[ -f package-lock.json ]]; then [[ package-lock.json -nt "$stamp" ]]; else [[ package.json -nt "$stamp" ]]; fi
}

if needs_install; then
  if [[ -f package-lock.json ]]; then
    say "installing npm dependencies (npm ci)"
    npm ci --no-audit --no-fund
  else
    say "installing npm dependencies (npm install: there is no package-lock.json)"
    npm install --no-audit --no-fund
  fi
else
  say "npm dependencies are up to date"
fi

# npm's postinstall generates the Prisma client; redo it if it is missing or older than the schema.
client=server/generated/prisma/client.ts
if [[ ! -f "$client" || prisma/schema.prisma -nt "$client" ]]; then
  say "generating the Prisma client"
  npm run --silent postinstall
fi

bash scripts/services.sh
