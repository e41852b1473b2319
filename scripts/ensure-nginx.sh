#!/usr/bin/env bash
# Makes sure `npm run cluster` (tools/cluster/main.ts) has an nginx to put in front of its web processes,
# in this order:
#   NGINX_PATH -> nginx on PATH or in /usr/sbin (Debian's package)
#   -> otherwise, as root (or with passwordless sudo) and apt-get: apt-get install -y nginx-light
# Prints the binary's path on the last line of stdout. The cluster runs nginx as the current user with a
# configuration and state directory of its own; the system's nginx service is neither needed nor touched
# (except that one this script's install started on port 80 is stopped again).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/packages.sh

say() { printf 'nginx: %s\n' "$*" >&2; }
die() {
  printf 'nginx: %s\n' "$@" >&2
  exit 1
}

found() {
  say "using $1 ($("$1" -v 2>&1 | sed 's|^nginx version: ||'))"
  printf '%s\n' "$1"
  exit 0
}

if [[ -n "${NGINX_PATH:-}" ]]; then
  [[ -x "$NGINX_PATH" ]] || die "NGINX_PATH=$NGINX_PATH is not an executable file." \
    "Fix it, or unset it to use the nginx on PATH (or Debian's)."
  found "$NGINX_PATH"
fi
if have nginx; then found "$(command -v nginx)"; fi
if [[ -x /usr/sbin/nginx ]]; then found /usr/sbin/nginx; fi

if have apt-get && can_root; then
  log="${TMPDIR:-/tmp}/storefront-nginx-apt.log"
  say "no nginx found; installing Debian's nginx-light with apt-get (log: $log)"
  apt_install "$log" nginx-light || die "apt-get could not install nginx-light (see $log)."
  [[ -x /usr/sbin/nginx ]] || die "apt-get finished but /usr/sbin/nginx is missing (see $log)."
  # Where nothing stops it (no policy-rc.d), the package starts the system service on port 80.
  if [[ -s /run/nginx.pid ]] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
    say "stopping the nginx service the package started (the cluster runs an nginx of its own)"
    as_root /usr/sbin/nginx -s quit >>"$log" 2>&1 || true
  fi
  found /usr/sbin/nginx
fi

die "No nginx for the cluster. Provide one of:" \
  "  - Debian/Ubuntu:      sudo apt-get install -y nginx-light" \
  "  - macOS (Homebrew):   brew install nginx" \
  "  - an existing nginx:  export NGINX_PATH=/path/to/nginx"
