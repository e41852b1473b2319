#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis are reachable before the shop or the tests start.
#
#   bash scripts/services.sh        (or `source scripts/services.sh` from another bash script)
#
# For each service, in this order:
#   1. already reachable?                         -> nothing to do
#   2. installed here but stopped?                -> start it (Debian/Ubuntu cluster tools for PostgreSQL)
#   3. not installed, root (or sudo -n) + apt-get -> install it, initialise it, start it
#   4. otherwise                                  -> say what is missing and exit non-zero
# DATABASE_URL / REDIS_URL are honoured: when they point anywhere but the local defaults
# (127.0.0.1:5432, 127.0.0.1:6379) this script only checks that the server answers.
# SERVICES_TIMEOUT (seconds, default 60) bounds every wait.
# A Redis started here is durable (append-only file in ~/.local/state/storefront/redis, or
# $STOREFRONT_REDIS_DIR); one already running is left as it is, with a warning if BullMQ would mind.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/packages.sh

SVC_DEFAULT_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/storefront"
SVC_DEFAULT_REDIS_URL="redis://127.0.0.1:6379"
SVC_APT_LOG="${TMPDIR:-/tmp}/storefront-services-apt.log"

svc_say() { printf 'services: %s\n' "$*"; }
svc_err() { printf 'services: %s\n' "$@" >&2; }
# `timeout` when available (it is not on stock macOS).
svc_timeout() {
  if have timeout; then timeout "$@"; else
    shift
    "$@"
  fi
}

# Installs Debian packages (apt-get update once per run). Returns non-zero when that is impossible.
svc_apt_install() {
  have apt-get && can_root || return 1
  svc_say "installing $* with apt-get (this can take a minute; log: $SVC_APT_LOG)"
  apt_install "$SVC_APT_LOG" "$@"
}

# Splits a URL into SVC_HOST and SVC_PORT ($2 = default port).
svc_parse_url() {
  local rest host port
  rest="${1#*://}"
  rest="${rest%%[/?#]*}"
  rest="${rest##*@}"
  if [[ "$rest" == \[* ]]; then
    host="${rest#\[}"
    host="${host%%]*}"
    port="${rest#*]}"
    port="${port#:}"
  else
    host="${rest%%:*}"
    port="${rest#"$host"}"
    port="${port#:}"
  fi
  SVC_HOST="${host:-127.0.0.1}"
  SVC_PORT="${port:-$2}"
}

svc_is_local() { # host port default-port
  [[ "$2" == "$3" ]] || return 1
  case "$1" in 127.0.0.1 | localhost | ::1) return 0 ;; *) return 1 ;; esac
}

svc_tcp_open() { # host port
  svc_timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" >/dev/null 2>&1
}

# Waits until "$@" succeeds or $SVC_TIMEOUT seconds have passed.
svc_wait() {
  local deadline=$((SECONDS + SVC_TIMEOUT))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------------------------- PostgreSQL

svc_pg_ready() {
  if have pg_isready; then
    pg_isready -h "$SVC_PG_HOST" -p "$SVC_PG_PORT" -t 3 -q >/dev/null 2>&1
  else
    svc_tcp_open "$SVC_PG_HOST" "$SVC_PG_PORT"
  fi
}

# Can we log in with DATABASE_URL? A missing database is fine: `npm run db:migrate` creates it.
svc_pg_login_ok() {
  have psql || return 0
  local err
  if err="$(PGCONNECT_TIMEOUT=5 psql "${SVC_PG_URL%%\?*}" -w -Atqc 'select 1' 2>&1 >/dev/null)"; then
    return 0
  fi
  [[ "$err" == *'FATAL:  database "'*'" does not exist'* ]] && return 0
  SVC_PG_LOGIN_ERROR="$err"
  return 1
}

# Prints "<version> <cluster> <status>" of the Debian cluster on port 5432, if any.
svc_pg_cluster() {
  pg_lsclusters -h 2>/dev/null | awk '$3 == 5432 { print $1, $2, $4; exit }'
}

# Lets user postgres connect over TCP from this machine without a password (clusters we set up).
svc_pg_trust() { # version cluster
  local hba="/etc/postgresql/$1/$2/pg_hba.conf"
  [[ -f "$hba" ]] || return 1
  if ! grep -q 'storefront (scripts/services.sh)' "$hba"; then
    svc_say "allowing user postgres from 127.0.0.1 without a password ($hba)"
    as_root sed -i '1i\
# storefront (scripts/services.sh): local development, user postgres over TCP without a password\
host all postgres 127.0.0.1/32 trust\
host all postgres ::1/128 trust' "$hba" || return 1
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$1" "$2" reload >/dev/null
}

svc_pg_help() {
  svc_err "$@" \
    "Provide PostgreSQL in one of these ways, then run this again:" \
    "  - Debian/Ubuntu: sudo apt-get install -y postgresql (this script starts and configures it)" \
    "  - Docker:        docker compose up -d postgres" \
    "  - your own:      start it yourself, or point DATABASE_URL at it" \
    "    (user postgres without a password on 127.0.0.1:5432 is the default)"
  exit 1
}

svc_ensure_postgres() {
  SVC_PG_URL="${DATABASE_URL:-$SVC_DEFAULT_DATABASE_URL}"
  svc_parse_url "$SVC_PG_URL" 5432
  SVC_PG_HOST="$SVC_HOST"
  SVC_PG_PORT="$SVC_PORT"
  local where="$SVC_PG_HOST:$SVC_PG_PORT" ours=0 cluster="" version="" name="" status=""

  if svc_pg_ready; then
    svc_say "PostgreSQL is up at $where"
  elif ! svc_is_local "$SVC_PG_HOST" "$SVC_PG_PORT" 5432; then
    svc_say "waiting for PostgreSQL at $where (from DATABASE_URL, up to ${SVC_TIMEOUT}s)"
    svc_wait svc_pg_ready || svc_pg_help "PostgreSQL at $where (from DATABASE_URL) does not answer."
    svc_say "PostgreSQL is up at $where"
  else
    svc_say "PostgreSQL is not running at $where; starting it"
    if ! have pg_ctlcluster; then
      if have postgres || compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null ||
        have pg_ctl; then
        svc_pg_help "PostgreSQL is installed but stopped, and only Debian/Ubuntu clusters can be started" \
          "from here (e.g. 'brew services start postgresql@16' or 'sudo systemctl start postgresql')."
      fi
      svc_apt_install postgresql ||
        svc_pg_help "PostgreSQL is not installed (and apt-get as root is not available to install it)."
      ours=1
    fi
    cluster="$(svc_pg_cluster)"
    if [[ -z "$cluster" ]]; then
      if [[ -n "$(pg_lsclusters -h 2>/dev/null)" ]]; then
        svc_pg_help "PostgreSQL clusters exist here but none uses port 5432 (see pg_lsclusters);" \
          "set DATABASE_URL to yours."
      fi
      version="$(find /usr/lib/postgresql -path '*/bin/postgres' 2>/dev/null |
        sed 's|/usr/lib/postgresql/||; s|/.*||' | sort -V | tail -n 1)"
      [[ -n "$version" ]] || svc_pg_help "PostgreSQL's server binaries were not found."
      can_root || svc_pg_help "Creating a PostgreSQL cluster needs root (or passwordless sudo)."
      svc_say "creating PostgreSQL $version cluster 'main' on port 5432"
      as_root pg_createcluster "$version" main --port 5432 >/dev/null
      cluster="$(svc_pg_cluster)"
      ours=1
    fi
    read -r version name status <<<"$cluster"
    if [[ "$status" != online* ]]; then
      can_root || svc_pg_help "Starting cluster $version/$name needs root (or passwordless sudo)."
      as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start ||
        svc_pg_help "pg_ctlcluster could not start cluster $version/$name" \
          "(log: /var/log/postgresql/postgresql-$version-$name.log)."
      ours=1
    fi
    svc_wait svc_pg_ready ||
      svc_pg_help "PostgreSQL $version/$name did not accept connections on $where within ${SVC_TIMEOUT}s" \
        "(log: /var/log/postgresql/postgresql-$version-$name.log)."
    svc_say "PostgreSQL $version/$name is up at $where"
  fi

  if ! svc_pg_login_ok; then
    if [[ "$ours" -eq 1 ]] && can_root && svc_pg_trust "$version" "$name" && svc_pg_login_ok; then
      return 0
    fi
    svc_err "PostgreSQL at $where refused the login from DATABASE_URL:" "  ${SVC_PG_LOGIN_ERROR:-}" \
      "Allow it (e.g. 'host all postgres 127.0.0.1/32 trust' at the top of pg_hba.conf, then reload)," \
      "or put the right user and password into DATABASE_URL."
    exit 1
  fi
}

# ---------------------------------------------------------------------------------------------- Redis

# Runs one Redis command; prints the reply. Falls back to an inline command over /dev/tcp.
svc_redis() {
  if have redis-cli; then
    local tls=()
    [[ "$SVC_REDIS_URL" == rediss://* ]] && tls=(--tls)
    svc_timeout 5 redis-cli ${tls[@]+"${tls[@]}"} -u "$SVC_REDIS_URL" --no-auth-warning "$@" 2>/dev/null
  else
    svc_timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1
      printf "%s\r\n" "$3" >&3
      IFS= read -r line <&3 || exit 1
      line="${line//[[:cntrl:]]/}"
      printf "%s\n" "${line#[+]}"' _ "$SVC_REDIS_HOST" "$SVC_REDIS_PORT" "$*" 2>/dev/null
  fi
}

svc_redis_ready() { [[ "$(svc_redis PING)" == "PONG" ]]; }

svc_redis_help() {
  svc_err "$@" \
    "Provide Redis in one of these ways, then run this again:" \
    "  - Debian/Ubuntu: sudo apt-get install -y redis-server (this script starts it)" \
    "  - Docker:        docker compose up -d redis" \
    "  - your own:      start it yourself (with maxmemory-policy noeviction), or point REDIS_URL at it"
  exit 1
}

# Where a Redis started by this script keeps its append-only file: a state directory of the user's,
# outside the checkout (every clone and worktree shares the one Redis on 6379) and outside /tmp (a
# reboot must not lose queued jobs). STOREFRONT_REDIS_DIR overrides it.
svc_redis_dir() {
  printf '%s\n' "${STOREFRONT_REDIS_DIR:-${XDG_STATE_HOME:-${HOME:?is not set: set STOREFRONT_REDIS_DIR}/.local/state}/storefront/redis}"
}

# Durable as BullMQ's production guide asks: every write appended to disk (fsync once a second: at
# most a second of jobs lost in a power cut; the reconciler in the worker re-drives those), and
# noeviction (Redis must refuse a write rather than silently drop a job when memory is full).
# @see https://docs.bullmq.io/guide/going-to-production
svc_redis_start() {
  local dir bind=(127.0.0.1 -::1) major
  dir="$(svc_redis_dir)"
  mkdir -p "$dir" || return 1
  major="$(redis-server --version | sed -n 's/.* v=\([0-9]*\).*/\1/p')"
  # The optional-address syntax (-::1) arrived in Redis 7.
  if [[ -n "$major" && "$major" -lt 7 ]]; then bind=(127.0.0.1); fi
  SVC_REDIS_LOG="$dir/redis.log"
  redis-server --daemonize yes --bind "${bind[@]}" --port 6379 --dir "$dir" --logfile "$SVC_REDIS_LOG" \
    --appendonly yes --appendfsync everysec --save "" --maxmemory-policy noeviction
}

# A Redis this script did not start is left as it is; say what BullMQ would not like about it.
svc_redis_check() { # where
  local policy aof
  have redis-cli || return 0
  policy="$(svc_redis CONFIG GET maxmemory-policy | tail -n 1)" || true
  if [[ -n "$policy" && "$policy" != "noeviction" ]]; then
    svc_err "warning: Redis at $1 has maxmemory-policy '$policy'; BullMQ needs 'noeviction'" \
      "  (redis-cli CONFIG SET maxmemory-policy noeviction, and in its redis.conf)."
  fi
  aof="$(svc_redis CONFIG GET appendonly | tail -n 1)" || true
  if [[ "$aof" == "no" ]]; then
    svc_say "note: Redis at $1 keeps no append-only file: queued jobs die with it (the worker's" \
      "reconciler re-drives them from Postgres)."
  fi
}

svc_ensure_redis() {
  SVC_REDIS_URL="${REDIS_URL:-$SVC_DEFAULT_REDIS_URL}"
  svc_parse_url "$SVC_REDIS_URL" 6379
  SVC_REDIS_HOST="$SVC_HOST"
  SVC_REDIS_PORT="$SVC_PORT"
  local where="$SVC_REDIS_HOST:$SVC_REDIS_PORT" started=0

  if ! svc_is_local "$SVC_REDIS_HOST" "$SVC_REDIS_PORT" 6379; then
    if ! svc_redis_ready; then
      svc_say "waiting for Redis at $where (from REDIS_URL, up to ${SVC_TIMEOUT}s)"
      svc_wait svc_redis_ready || svc_redis_help "Redis at $where (from REDIS_URL) does not answer PING."
    fi
    svc_redis_check "$where"
    svc_say "Redis is up at $where"
    return 0
  fi

  if ! svc_redis_ready; then
    if svc_tcp_open "$SVC_REDIS_HOST" "$SVC_REDIS_PORT"; then
      # Something listens but does not answer PING: it may still be loading, or want a password.
      svc_wait svc_redis_ready ||
        svc_redis_help "Something listens on $where but does not answer PING with PONG" \
          "(a password? then set REDIS_URL=redis://:PASSWORD@127.0.0.1:6379)."
    else
      svc_say "Redis is not running at $where; starting it"
      if ! have redis-server; then
        svc_apt_install redis-server ||
          svc_redis_help "Redis is not installed (and apt-get as root is not available to install it)."
        sleep 1 # the package may have started its own server; use it if so
      fi
      if ! svc_redis_ready; then
        svc_redis_start || svc_redis_help "redis-server could not start (log: ${SVC_REDIS_LOG:-?})."
        started=1
        if ! svc_wait svc_redis_ready; then
          tail -n 10 "${SVC_REDIS_LOG:-/dev/null}" >&2 || true
          svc_redis_help "Redis did not answer on $where within ${SVC_TIMEOUT}s (log: ${SVC_REDIS_LOG:-?})."
        fi
      fi
    fi
  fi

  if [[ "$started" -eq 1 ]]; then
    svc_say "Redis is up at $where (append-only file in $(svc_redis_dir), maxmemory-policy noeviction)"
  else
    svc_redis_check "$where"
    svc_say "Redis is up at $where"
  fi
}

services_main() {
  SVC_TIMEOUT="${SERVICES_TIMEOUT:-60}"
  svc_ensure_postgres
  svc_ensure_redis
}

services_main
