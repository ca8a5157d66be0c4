#!/usr/bin/env bash
# Install what the tests need, then run them all: the README's test command, and CI's.
#
#   bash tests/run.sh [pytest arguments]
#
# - a virtualenv in .venv with the project and its test extras;
# - PostgreSQL from Debian's packages (apt-get, as root), started as a private
#   cluster on 127.0.0.1 (deploy/postgres/pg.sh) and stopped at the end;
# - Apache Kafka (deploy/kafka/kafka.sh: Java 17+ and Maven, from Debian's packages when
#   missing), one node on free loopback ports with its data in a temporary folder, stopped
#   at the end; the stream tests (tests/kafka_fixtures.py) use it;
# - Debian's chromium, which Playwright drives for the page tests (never `playwright install`,
#   which downloads a browser of its own), and the Pango libraries WeasyPrint draws PDFs with;
#   the page tests leave their screenshots in test-artifacts/screenshots/;
# - mypy on the packages, then pytest: every ledger test on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e ".[test]"

if [ "$(id -u)" = 0 ]; then bash deploy/postgres/pg.sh install; fi
started_pg=0
if ! bash deploy/postgres/pg.sh status >/dev/null 2>&1; then started_pg=1; fi
CAE_TEST_POSTGRES_URL="$(bash deploy/postgres/pg.sh start)"
export CAE_TEST_POSTGRES_URL
CAE_KAFKA_DATA="$(mktemp -d)"
cleanup() {
  bash deploy/kafka/kafka.sh stop >/dev/null || true
  rm -rf "$CAE_KAFKA_DATA"
  if [ "$started_pg" = 1 ]; then bash deploy/postgres/pg.sh stop; fi
}
trap cleanup EXIT

debian_packages=()
if ! { command -v java && command -v mvn; } >/dev/null 2>&1; then debian_packages+=(default-jre-headless maven); fi
if ! command -v chromium >/dev/null 2>&1; then debian_packages+=(chromium); fi
for lib in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; do
  if ! dpkg-query -W -f='${Status}' "$lib" 2>/dev/null | grep -q 'ok installed'; then debian_packages+=("$lib"); fi
done
if [ "$(id -u)" = 0 ] && [ "${#debian_packages[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${debian_packages[@]}" >/dev/null
fi
read -r CAE_KAFKA_PORT CAE_KAFKA_CONTROLLER_PORT < <(python3 -c 'import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
export CAE_KAFKA_DATA CAE_KAFKA_PORT CAE_KAFKA_CONTROLLER_PORT
bash deploy/kafka/kafka.sh start
CAE_TEST_KAFKA_BOOTSTRAP="127.0.0.1:$CAE_KAFKA_PORT"
export CAE_TEST_KAFKA_BOOTSTRAP

.venv/bin/mypy
.venv/bin/pytest -q "$@"
