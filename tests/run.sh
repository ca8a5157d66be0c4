#!/usr/bin/env bash
# Install what the tests need, then run them all: the README's test command, and CI's.
#
#   bash tests/run.sh [pytest arguments]
#
# - a virtualenv in .venv with the project and its test extras;
# - PostgreSQL from Debian's packages (apt-get, as root), started as a private
#   cluster on 127.0.0.1 (deploy/postgres/pg.sh) and stopped at the end;
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
if [ "$started_pg" = 1 ]; then trap 'bash deploy/postgres/pg.sh stop' EXIT; fi

.venv/bin/mypy
.venv/bin/pytest -q "$@"
