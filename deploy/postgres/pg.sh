#!/usr/bin/env bash
# A private PostgreSQL cluster for TESTS AND LOCAL RUNS ONLY, from Debian's packages.
#
#   deploy/postgres/pg.sh install   apt-get install postgresql (needs root)
#   deploy/postgres/pg.sh start     init (once) and start on 127.0.0.1:$CAE_PG_PORT; prints the admin URL
#   deploy/postgres/pg.sh url [admin|owner|app]   a URL of the database `cae` (admin: of `postgres`)
#   deploy/postgres/pg.sh stop | status
#
# NOT FOR REAL BOOKS. By default the cluster trades durability for speed: fsync=off,
# synchronous_commit=off, full_page_writes=off. A commit then returns before its WAL is on
# disk, so a crash or an immediate stop (`pg_ctl stop -m immediate`) loses the last commits: a
# worker, told they were committed, has acknowledged their events to Kafka, and they are gone
# (1,275 events in one measured stop). CAE_PG_DURABLE=1 starts it with the durable settings a
# production server must have (deploy/postgres/README.md, "Durability"): fsync=on,
# synchronous_commit=on, full_page_writes=on (tests/test_durability.py shuts such a cluster
# down immediately under a worker, five times, and finds every event).
#
# Three roles (README.md here): `cae` the cluster's superuser (tests create databases with it),
# `cae_owner` who owns the ledger's tables and migrates them (`cae migrate`), and `cae_app`, the
# role the workers and the web use: it reads and inserts, but can neither alter a table nor
# disable a trigger (it is no superuser and owns nothing). Passwords are the role names: this
# cluster is for tests and local runs on loopback, never for real books.
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

url() {
  case "${1:-admin}" in
    admin) echo "postgresql+psycopg://$user:$password@127.0.0.1:$port/postgres" ;;
    owner) echo "postgresql+psycopg://cae_owner:cae_owner@127.0.0.1:$port/cae" ;;
    app) echo "postgresql+psycopg://cae_app:cae_app@127.0.0.1:$port/cae" ;;
    *) echo "pg.sh: url admin|owner|app" >&2; exit 2 ;;
  esac
}

sql() { PGPASSWORD="$password" "$(bindir)/psql" -h 127.0.0.1 -p "$port" -U "$user" -d postgres -qtAX -c "$1"; }

roles() {  # the owner and the application's role, and the database `cae`, where missing
  local role
  for role in cae_owner cae_app; do
    sql "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
           CREATE ROLE $role LOGIN PASSWORD '$role' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
         END IF; END \$\$" >/dev/null
  done
  if [ -z "$(sql "SELECT 1 FROM pg_database WHERE datname = 'cae'")" ]; then
    sql "CREATE DATABASE cae OWNER cae_owner" >/dev/null
  fi
}

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
    if running; then roles; url; exit 0; fi
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$data" && chmod 700 "$data"
    if [ ! -f "$data/PG_VERSION" ]; then
      pwfile="$(mktemp)"; echo "$password" > "$pwfile"; chmod 644 "$pwfile"
      as_owner "$bin/initdb" -D "$data" -U "$user" --pwfile="$pwfile" -A scram-sha-256 -E UTF8 \
        --locale=C.UTF-8 >/dev/null
      rm -f "$pwfile"
    fi
    # Loopback only. Fast and NOT durable unless CAE_PG_DURABLE=1 (see the top of this file).
    if [ "${CAE_PG_DURABLE:-0}" = 1 ]; then
      durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
    else
      durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k /tmp $durability -c max_connections=200" \
      start >/dev/null
    roles
    url
    ;;
  stop)
    if running; then as_owner "$(bindir)/pg_ctl" -D "$data" -m fast -w stop >/dev/null; fi
    ;;
  status)
    if running; then echo "running on 127.0.0.1:$port"; else echo "stopped"; exit 3; fi
    ;;
  url) url "${2:-admin}" ;;
  *) echo "usage: $0 install|start|stop|status|url [admin|owner|app]" >&2; exit 2 ;;
esac
