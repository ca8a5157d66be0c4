#!/usr/bin/env bash
# Local single-node Kafka (KRaft, broker+controller in one JVM) for development and tests.
#
#   kafka.sh start    fetch the jars (Maven, once), format storage (once), start, wait until ready
#   kafka.sh stop     stop the broker this script started (pid file); fine if nothing runs
#   kafka.sh status   exit 0 if running (pid alive and port open), 3 if not
#
# Environment (all optional):
#   CAE_KAFKA_HOME             jar cache; jars go to $CAE_KAFKA_HOME/libs   (default: <this dir>/.cache)
#   CAE_KAFKA_DATA             data, config, log and pid file                (default: <this dir>/.data)
#   CAE_KAFKA_PORT             client (PLAINTEXT) port on 127.0.0.1          (default: 9092)
#   CAE_KAFKA_CONTROLLER_PORT  KRaft controller port on 127.0.0.1            (default: 9093)
#   CAE_KAFKA_HEAP_OPTS        JVM heap flags                                (default: -Xmx512m -Xms512m)
#   CAE_KAFKA_START_TIMEOUT    seconds to wait for readiness                 (default: 90)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# absolute paths: they are written into server.properties and matched against the pid's cmdline
HOME_DIR="$(realpath -m "${CAE_KAFKA_HOME:-$HERE/.cache}")"
LIBS="$HOME_DIR/libs"
DATA="$(realpath -m "${CAE_KAFKA_DATA:-$HERE/.data}")"
PORT="${CAE_KAFKA_PORT:-9092}"
CONTROLLER_PORT="${CAE_KAFKA_CONTROLLER_PORT:-9093}"
HEAP_OPTS="${CAE_KAFKA_HEAP_OPTS:--Xmx512m -Xms512m}"
START_TIMEOUT="${CAE_KAFKA_START_TIMEOUT:-90}"
HOST=127.0.0.1 # never listen on anything but loopback

for p in "$PORT" "$CONTROLLER_PORT"; do
  [[ "$p" =~ ^[0-9]+$ ]] || { echo "kafka.sh: bad port: $p" >&2; exit 2; }
done
[[ "$PORT" != "$CONTROLLER_PORT" ]] || { echo "kafka.sh: client and controller ports must differ" >&2; exit 2; }

CONFIG="$DATA/server.properties"
LOG_DIRS="$DATA/kraft-logs" # Kafka's own data (topic partitions + metadata log)
LOG_FILE="$DATA/kafka.log"  # the JVM's stdout/stderr (log4j2 writes to the console)
PID_FILE="$DATA/kafka.pid"

die() { echo "kafka.sh: $*" >&2; exit 1; }
say() { echo "kafka.sh: $*"; }

# --- small helpers -----------------------------------------------------------------------------

port_open() { # bash's /dev/tcp: no nc/java needed; subshell so the fd closes at once
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

alive() { # kill -0 also succeeds on a zombie (exited, not yet reaped by its parent)
  kill -0 "$1" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]
}

# The pid from our pid file, if that process is alive AND is our broker (guards against a
# recycled pid after a reboot or a crash).
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $CONFIG" || return 1
  echo "$pid"
}

# A real protocol round trip (ApiVersions v0), stdlib python only; skipped without python3.
# The "Kafka Server started" log line plus the open port already mean ready; this only
# confirms the listener speaks Kafka.
api_versions_ok() {
  command -v python3 >/dev/null 2>&1 || return 0
  python3 - "$HOST" "$PORT" <<'PY'
import socket, struct, sys
host, port = sys.argv[1], int(sys.argv[2])
client = b"cae-kafka-sh"
# request header v1: api_key=18 (ApiVersions), api_version=0, correlation_id=1, client_id
body = struct.pack(">hhih", 18, 0, 1, len(client)) + client
with socket.create_connection((host, port), timeout=5) as s:
    s.sendall(struct.pack(">i", len(body)) + body)
    data = b""
    while len(data) < 10:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit(1)
        data += chunk
_size, corr, err = struct.unpack(">iih", data[:10])
sys.exit(0 if corr == 1 and err == 0 else 1)
PY
}

# --- jars --------------------------------------------------------------------------------------

# The jars are fetched once; a stamp with the pom's checksum makes a pom change (e.g. a Kafka
# version bump) refetch, and an interrupted fetch never counts as complete.
fetch_jars() {
  local stamp="$LIBS/.pom.sha256" want
  want="$(sha256sum "$HERE/pom.xml" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found (apt-get install maven)"
  say "fetching Kafka jars with Maven into $LIBS (first time only) ..."
  local tmp="$LIBS.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$HOME_DIR"
  if ! mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$HOME_DIR/mvn.log" 2>&1; then
    tail -n 30 "$HOME_DIR/mvn.log" >&2
    rm -rf "$tmp"
    die "Maven could not fetch the jars (full output: $HOME_DIR/mvn.log)"
  fi
  echo "$want" >"$tmp/.pom.sha256"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  say "jars ready ($(du -sh "$LIBS" | cut -f1))"
}

check_java() { # Kafka 4 brokers need Java 17+; say so instead of an UnsupportedClassVersionError
  command -v java >/dev/null 2>&1 || die "java not found (Kafka 4 needs Java 17+)"
  local v
  v="$(java -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p')"
  [[ -n "$v" && "$v" -ge 17 ]] || die "Kafka 4 needs Java 17+, found: $(java -version 2>&1 | head -n 1)"
}

# JVM flags shared by the broker and the storage tool (as bin/kafka-run-class.sh sets them).
JVM_COMMON=(-Dlog4j2.configurationFile="$HERE/log4j2.properties" -Djava.awt.headless=true
  -cp "$LIBS/*")
java_cmd() { java "${JVM_COMMON[@]}" "$@"; }

# --- config and storage ------------------------------------------------------------------------

write_config() { # rewritten at every start so port changes take effect
  cat >"$CONFIG" <<EOF
# Written by deploy/kafka/kafka.sh at each start: edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$LOG_DIRS
num.partitions=1
auto.create.topics.enable=false
# one node: every internal topic with a single replica
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# consumers join a group at once instead of waiting 3 s for more members
group.initial.rebalance.delay.ms=0
EOF
}

# Format once (what bin/kafka-storage.sh format does). --standalone makes this node the only
# controller voter without listing controller.quorum.voters; -g tolerates a formatted dir.
format_storage() {
  [[ -f "$LOG_DIRS/meta.properties" ]] && return 0
  local cluster_id
  cluster_id="$(java_cmd kafka.tools.StorageTool random-uuid 2>>"$DATA/format.log" | tail -n 1)"
  say "formatting storage in $LOG_DIRS (cluster id $cluster_id)"
  java_cmd kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG" --standalone -g \
    >>"$DATA/format.log" 2>&1 || { cat "$DATA/format.log" >&2; die "storage format failed"; }
}

# --- commands ----------------------------------------------------------------------------------

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    say "already running (pid $pid, $HOST:$PORT)"
    return 0
  fi
  # Someone else on our ports: starting would only fail later with a bind error.
  for p in "$PORT" "$CONTROLLER_PORT"; do
    port_open "$p" && die "port $HOST:$p is already in use by another process"
  done
  check_java

  fetch_jars
  mkdir -p "$DATA"
  write_config
  format_storage

  # One log per run (the previous one is kept) so the readiness grep only sees this run.
  [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
  local started=$SECONDS
  # shellcheck disable=SC2086 # HEAP_OPTS is a list of flags
  # nohup: the broker outlives this script and its terminal; GC flags as kafka-run-class.sh.
  nohup java $HEAP_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    "${JVM_COMMON[@]}" kafka.Kafka "$CONFIG" >"$LOG_FILE" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"
  say "starting broker (pid $pid), log: $LOG_FILE"

  # Ready = port open + the "Kafka Server started" line (logged once the broker is unfenced)
  # + an ApiVersions round trip.
  while ((SECONDS - started < START_TIMEOUT)); do
    if ! alive "$pid"; then
      rm -f "$PID_FILE"
      tail -n 40 "$LOG_FILE" >&2
      die "broker exited during startup (log above, full log: $LOG_FILE)"
    fi
    if port_open "$PORT" && grep -q 'Kafka Server started' "$LOG_FILE" && api_versions_ok; then
      say "ready on $HOST:$PORT after $((SECONDS - started)) s"
      return 0
    fi
    sleep 0.5
  done
  tail -n 40 "$LOG_FILE" >&2
  say "broker not ready after ${START_TIMEOUT} s: stopping it"
  cmd_stop >&2 || true
  die "timed out waiting for Kafka on $HOST:$PORT (log above, full log: $LOG_FILE)"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE" # stale or absent: nothing of ours runs
    say "not running"
    return 0
  fi
  say "stopping broker (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  # A controlled shutdown usually takes a few seconds; SIGKILL only as a last resort.
  local waited=0
  while alive "$pid" && ((waited < 60)); do
    sleep 0.5
    waited=$((waited + 1))
  done
  if alive "$pid"; then
    say "still alive after 30 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in {1..50}; do alive "$pid" || break; sleep 0.2; done # ports free when we return
  fi
  rm -f "$PID_FILE"
  say "stopped"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if port_open "$PORT"; then
      say "running (pid $pid, $HOST:$PORT)"
      return 0
    fi
    say "process $pid alive but $HOST:$PORT not open (starting or stuck?)"
    return 3
  fi
  say "not running"
  return 3
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
