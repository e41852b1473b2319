# Finding and installing what the project needs from Debian's packages, shared by the scripts that do
# it (services.sh: PostgreSQL and Redis; ensure-chromium.sh; ensure-nginx.sh). Source it; it defines:
#   have CMD                  CMD is on PATH
#   can_root                  root, or passwordless sudo (needed to install packages)
#   as_root CMD...            runs CMD as root
#   apt_install LOG PKG...    apt-get update (once per shell) then install PKG..., output appended to
#                             LOG; returns non-zero (LOG's tail on stderr) when impossible or failed
# shellcheck shell=bash

have() { command -v "$1" >/dev/null 2>&1; }

can_root() {
  [[ "$(id -u)" -eq 0 ]] && return 0
  have sudo && sudo -n true >/dev/null 2>&1
}

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo -n "$@"; fi
}

PACKAGES_APT_UPDATED=0

apt_install() {
  local log="$1"
  shift
  have apt-get && can_root || return 1
  local apt=(as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300)
  if [[ "$PACKAGES_APT_UPDATED" -eq 0 ]]; then
    if ! "${apt[@]}" update >>"$log" 2>&1; then
      tail -n 20 "$log" >&2
      return 1
    fi
    PACKAGES_APT_UPDATED=1
  fi
  if ! "${apt[@]}" install -y "$@" >>"$log" 2>&1; then
    tail -n 20 "$log" >&2
    return 1
  fi
}
