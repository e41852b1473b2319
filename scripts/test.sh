#!/usr/bin/env bash
# `npm test`: the whole suite, stopping at the first failure:
#   type check -> lint -> integration tests (vitest) -> production build -> cluster tests (vitest: nginx
#   in front of web and worker processes of the build, and the chaos soak) -> browser tests (playwright)
# It uses its own databases and Redis prefixes (TEST_DATABASE_URL, E2E_DATABASE_URL, … with defaults in
# test/stores.ts), so it never touches the data of `npm run shop`. Run a single part directly, e.g. `npx vitest run test/x.test.ts`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -gt 0 ]]; then
  printf 'test: no arguments, please; run one part directly (npx vitest run <file>, npx playwright test <file>)\n' >&2
  exit 2
fi

export NEXT_TELEMETRY_DISABLED=1

bash scripts/setup.sh # npm dependencies first: the line below needs tsx
# The PostgreSQL the tests use, for the services check (setup.sh above checked the default one).
DATABASE_URL="$(npx tsx test/stores.ts test)" bash scripts/services.sh
bash scripts/ensure-chromium.sh
bash scripts/ensure-nginx.sh >/dev/null

started=$SECONDS
passed=()
joined() { # the passed steps, comma-separated
  local out="" item
  for item in "${passed[@]}"; do out="${out:+$out, }$item"; done
  printf '%s' "$out"
}

step() { # name command...
  local name=$1 t0=$SECONDS
  shift
  printf '\n==> %s: %s\n' "$name" "$*"
  if "$@"; then
    passed+=("$name ($((SECONDS - t0))s)")
  else
    local code=$?
    printf '\ntest: FAILED at "%s" (exit %s) after %ss.' "$name" "$code" "$((SECONDS - started))" >&2
    if [[ ${#passed[@]} -gt 0 ]]; then printf ' Passed before it: %s.' "$(joined)" >&2; fi
    printf '\n' >&2
    exit "$code"
  fi
}

step "type check" npx tsc --noEmit
step "lint" npx biome check .
step "integration tests" npx vitest run
step "build" npm run --silent build
step "cluster tests and chaos soak" npx vitest run --config vitest.cluster.config.ts
step "browser tests" npx playwright test

printf '\ntest: ALL PASSED in %ss: %s.\n' "$((SECONDS - started))" "$(joined)"
