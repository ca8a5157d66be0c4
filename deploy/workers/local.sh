#!/usr/bin/env bash
# The engine on Kafka, on one machine: Kafka (deploy/kafka), PostgreSQL (deploy/postgres), N workers.
#
#   local.sh start [N]     start Kafka and PostgreSQL (if not running), create the database and the
#                          topics, then N workers in the background (default 2): one consumer group
#   local.sh stop [--all]  stop the workers (SIGTERM: each finishes its batch, commits, leaves the
#                          group); with --all, Kafka and the private PostgreSQL cluster too
#   local.sh status        which workers run, then `cae status`: lag per partition, dead letters
#                          pending, last entry posted
#
# Then publish: `cae publish events.jsonl` (with CAE_KAFKA_BOOTSTRAP below). Environment (optional):
#   CAE_RUN_DIR          pid and log files of the workers     (default: deploy/workers/.run)
#   CAE_DATABASE_URL     the ledger                           (default: database "cae" of the private cluster)
#   CAE_KAFKA_GROUP      the workers' consumer group          (default: cae-ledger)
#   CAE_KAFKA_PORT ...   as for deploy/kafka/kafka.sh; CAE_PG_PORT ... as for deploy/postgres/pg.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
run="${CAE_RUN_DIR:-$here/.run}"
cae="$root/.venv/bin/cae"
[ -x "$cae" ] || cae="$(command -v cae || true)"
[ -n "$cae" ] || { echo "local.sh: no cae command (python3 -m venv .venv && .venv/bin/pip install '.[kafka,postgres]')" >&2; exit 1; }
export CAE_KAFKA_BOOTSTRAP="${CAE_KAFKA_BOOTSTRAP:-127.0.0.1:${CAE_KAFKA_PORT:-9092}}"

database_url() {
  if [ -n "${CAE_DATABASE_URL:-}" ]; then echo "$CAE_DATABASE_URL"; return; fi
  local server
  server="$(bash "$root/deploy/postgres/pg.sh" start)"
  # the private cluster's URL names the "postgres" database: ours is "cae", created once
  "$(dirname "$cae")/python" - "$server" <<'PY'
import sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with engine.connect() as conn:
    if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = 'cae'")):
        conn.execute(text('CREATE DATABASE "cae"'))
PY
  echo "${server%/*}/cae"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  local n="${1:-2}" url i
  bash "$root/deploy/kafka/kafka.sh" start
  url="$(database_url)"
  "$cae" topics
  mkdir -p "$run"
  echo "$url" >"$run/database_url"
  for i in $(seq 1 "$n"); do
    if alive "$run/worker-$i.pid"; then echo "local.sh: worker $i already runs"; continue; fi
    nohup "$cae" worker --db "$url" >>"$run/worker-$i.log" 2>&1 </dev/null &
    echo $! >"$run/worker-$i.pid"
    echo "local.sh: worker $i started (pid $!), log: $run/worker-$i.log"
  done
}

stop() {
  local pid_file pid waited
  for pid_file in "$run"/worker-*.pid; do
    [ -f "$pid_file" ] || continue
    if alive "$pid_file"; then
      pid="$(cat "$pid_file")"
      kill -TERM "$pid"
      waited=0
      while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 120 ]; do sleep 0.5; waited=$((waited + 1)); done
      if kill -0 "$pid" 2>/dev/null; then
        echo "local.sh: $pid still running after 60 s: SIGKILL (safe: its batch comes back, as a duplicate)"
        kill -KILL "$pid" 2>/dev/null || true
      fi
      echo "local.sh: stopped worker pid $pid"
    fi
    rm -f "$pid_file"
  done
  if [ "${1:-}" = "--all" ]; then
    bash "$root/deploy/kafka/kafka.sh" stop
    # only the private cluster of pg.sh: a database named by CAE_DATABASE_URL is not ours to stop
    if [ -z "${CAE_DATABASE_URL:-}" ]; then bash "$root/deploy/postgres/pg.sh" stop; fi
  fi
}

status() {
  local pid_file
  for pid_file in "$run"/worker-*.pid; do
    [ -f "$pid_file" ] || continue
    if alive "$pid_file"; then echo "$(basename "$pid_file" .pid): running (pid $(cat "$pid_file"))"
    else echo "$(basename "$pid_file" .pid): not running"; fi
  done
  "$cae" status --db "$(cat "$run/database_url" 2>/dev/null || database_url)"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  status) status ;;
  *) echo "usage: $0 start [N] | stop [--all] | status" >&2; exit 2 ;;
esac
