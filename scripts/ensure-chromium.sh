#!/usr/bin/env bash
# Makes sure the browser tests have a Chromium to drive (see playwright.config.ts), in this order:
#   CHROMIUM_PATH -> /usr/bin/chromium (Debian's package) -> a browser installed by `npx playwright install`
#   -> otherwise, as root (or with passwordless sudo) and apt-get: apt-get install -y chromium
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/packages.sh

say() { printf 'chromium: %s\n' "$*"; }
die() {
  printf 'chromium: %s\n' "$@" >&2
  exit 1
}

if [[ -n "${CHROMIUM_PATH:-}" ]]; then
  [[ -x "$CHROMIUM_PATH" ]] || die "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file." \
    "Fix it, or unset it to use /usr/bin/chromium or Playwright's own browser."
  say "using CHROMIUM_PATH=$CHROMIUM_PATH"
  exit 0
fi

if [[ -x /usr/bin/chromium ]]; then
  say "using /usr/bin/chromium"
  exit 0
fi

# A browser downloaded by `npx playwright install chromium` (matching this Playwright version).
if [[ -d node_modules/playwright-core ]] && found="$(node -e '
  const fs = require("node:fs");
  const paths = [];
  try {
    const { registry } = require("playwright-core/lib/coreBundle").registry;
    for (const name of ["chromium-headless-shell", "chromium"]) {
      const executable = registry.findExecutable(name);
      if (executable) paths.push(executable.executablePath());
    }
  } catch {}
  try { paths.push(require("playwright-core").chromium.executablePath()); } catch {}
  const found = paths.find((p) => p && fs.existsSync(p));
  if (!found) process.exit(1);
  console.log(found);
' 2>/dev/null)"; then
  say "using Playwright's browser ($found)"
  exit 0
fi

if have apt-get && can_root; then
  log="${TMPDIR:-/tmp}/storefront-chromium-apt.log"
  say "no Chromium found; installing Debian's chromium with apt-get (about a minute, log: $log)"
  apt_install "$log" chromium || die "apt-get could not install chromium (see $log)."
  [[ -x /usr/bin/chromium ]] || die "apt-get finished but /usr/bin/chromium is missing (see $log)."
  say "installed $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi

die "No Chromium for the browser tests. Provide one of:" \
  "  - Playwright's own browser:  npx playwright install chromium" \
  "  - Debian/Ubuntu:             sudo apt-get install -y chromium" \
  "  - an existing Chrome/Chromium: export CHROMIUM_PATH=/path/to/chrome"
