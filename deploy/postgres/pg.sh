#!/usr/bin/env bash
# A private PostgreSQL cluster for tests and local runs, from Debian's packages.
#
#   deploy/postgres/pg.sh install   apt-get install postgresql (needs root)
#   deploy/postgres/pg.sh start     init (once) and start on 127.0.0.1:$CAE_PG_PORT; prints the URL
#   deploy/postgres/pg.sh stop | status | url
#
# Why a private cluster rather than Debian's 'main' one: it lives in a folder of
# ours (CAE_PG_DATA, default /tmp/cae-postgres-PORT: a path the postgres user can reach), listens on loopback only,
# on its own port, and stopping it stops nothing else. As root, the server runs
# as the 'postgres' user (PostgreSQL refuses to run as root).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="${CAE_PG_DATA:-${TMPDIR:-/tmp}/cae-postgres-${CAE_PG_PORT:-55432}}"
port="${CAE_PG_PORT:-55432}"
user=cae
password=cae

bindir() {
  local pg_config
  for pg_config in /usr/lib/postgresql/*/bin/pg_ctl; do
    [ -x "$pg_config" ] && { dirname "$pg_config"; return; }
  done
  echo "PostgreSQL server binaries not found: run '$0 install' (Debian package postgresql)" >&2
  exit 1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() { echo "postgresql+psycopg://$user:$password@127.0.0.1:$port/postgres"; }

running() { [ -f "$data/postmaster.pid" ] && as_owner "$(bindir)/pg_ctl" -D "$data" status >/dev/null 2>&1; }

case "${1:-}" in
  install)
    if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
    fi
    ;;
  start)
    bin="$(bindir)"
    if running; then url; exit 0; fi
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$data" && chmod 700 "$data"
    if [ ! -f "$data/PG_VERSION" ]; then
      pwfile="$(mktemp)"; echo "$password" > "$pwfile"; chmod 644 "$pwfile"
      as_owner "$bin/initdb" -D "$data" -U "$user" --pwfile="$pwfile" -A scram-sha-256 -E UTF8 \
        --locale=C.UTF-8 >/dev/null
      rm -f "$pwfile"
    fi
    # Loopback only; fsync off: a test cluster trades durability for speed, never use it for real books.
    as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k /tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null
    url
    ;;
  stop)
    if running; then as_owner "$(bindir)/pg_ctl" -D "$data" -m fast -w stop >/dev/null; fi
    ;;
  status)
    if running; then echo "running on 127.0.0.1:$port"; else echo "stopped"; exit 3; fi
    ;;
  url) url ;;
  *) echo "usage: $0 install|start|stop|status|url" >&2; exit 2 ;;
esac
