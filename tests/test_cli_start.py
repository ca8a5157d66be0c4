"""Issue 11: `cae` imports only what a command uses, so that it answers at once.

`cae --help` lists every command from `cli.main.COMMANDS` without importing one; `cae
statement` imports the ledger, not the Kafka client, faust, alembic nor the PostgreSQL
driver. Each is checked in a fresh interpreter, from `sys.modules`, so a new top-level
import that slows every command down fails here (the seconds are bench/cli.py's).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from cli.lazy import Lazy, LazyGroup
from cli.main import COMMANDS, cae
from streams.embedded import ingest, read_events
from tests.conftest import SHARED

HEAVY = ("faust", "kafka", "aiokafka", "alembic", "psycopg", "weasyprint", "uvicorn", "fastapi", "matplotlib")

PROBE = """
import json, sys
sys.argv = ["cae", *json.loads(sys.argv[1])]
from cli.main import main
try:
    main()
except SystemExit:
    pass
print("\\n" + json.dumps(sorted(set(sys.modules) & set(%r))), file=sys.stderr)
"""


def imported(*args: str, among: tuple[str, ...] = HEAVY) -> list[str]:
    """The modules of `among` (the heavy packages by default) that `cae ARGS` imported, run in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", PROBE % (among,), json.dumps(args)], capture_output=True,
                          text=True, timeout=120)
    assert done.stderr.strip(), done.stdout
    return list(json.loads(done.stderr.strip().splitlines()[-1]))


def test_help_imports_no_command() -> None:
    assert imported("--help") == []


def october(tmp_path: Path) -> str:
    """The URL of a ledger holding the October scenario."""
    from engine.config import load_rules
    from ledger.db import open_ledger

    url = f"sqlite:///{tmp_path / 'cae.db'}"
    engine = open_ledger(url)
    ingest(engine, read_events(SHARED / "scenarios/october/events.jsonl"), load_rules())
    engine.dispose()
    return url


def test_a_statement_imports_neither_kafka_nor_alembic_nor_the_postgresql_driver(tmp_path: Path) -> None:
    assert imported("statement", "M001", "--month", "2026-10", "--db", october(tmp_path)) == []


# What reading the books does not need (issue 18, point 4): the events' models (pydantic, and
# schwifty for their IBANs: the rates import them only for a configured bank account), the rules
# and the bank statements' writers (`ledger.treasury`; the reconciliation reads `ledger.bank_checks`),
# SQLAlchemy's ORM. Together a tenth of a second of every `cae reconcile`, which answers in 2 s.
READING_ONLY = (*HEAVY, "pydantic", "schwifty", "engine.events", "engine.rules", "ledger.treasury",
                "ledger.bank_store", "sqlalchemy.orm")


@pytest.mark.parametrize("args", [("--json",), ("--all",)], ids=["json", "all"])
def test_a_reconciliation_imports_neither_the_events_models_nor_the_bank_writers(args: tuple[str, ...],
                                                                                 tmp_path: Path) -> None:
    url = october(tmp_path)
    assert imported("reconcile", "--month", "2026-10", *args, "--db", url, among=READING_ONLY) == []
    assert imported("--help", among=READING_ONLY) == []


@pytest.mark.parametrize("group", [cae, cae.get_command(click.Context(cae), "payroll")], ids=["cae", "payroll"])
def test_each_lazy_line_is_the_commands_own(group: click.Group) -> None:
    """`--help` shows the line kept in the registry: it must be what the command itself says."""
    assert isinstance(group, LazyGroup)
    for name, lazy in group.lazy.items():
        command = lazy.load()
        assert command.name == name
        assert click.utils.make_default_short_help(lazy.help, 300) == command.get_short_help_str(300), name


def test_every_command_is_registered() -> None:
    assert set(COMMANDS) == set(cae.list_commands(click.Context(cae)))
    assert all(isinstance(lazy, Lazy) for lazy in COMMANDS.values())


WITHOUT = """
import importlib.abc, json, sys

class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in %r:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, Missing())
sys.argv = ["cae", *json.loads(sys.argv[1])]
from cli.main import main
main()
"""


@pytest.mark.parametrize(("args", "extra"), [
    (("worker", "--bootstrap", "127.0.0.1:1"), "kafka"),
    (("publish", "events.jsonl"), "kafka"),
    (("topics",), "kafka"),
    (("statement", "M001", "--month", "2026-10", "--db", "postgresql+psycopg://cae@127.0.0.1:1/cae"), "postgres"),
])
def test_a_command_that_needs_a_missing_extra_says_which_to_install(args: tuple[str, ...], extra: str,
                                                                    tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text("{}\n")
    blocked = {"kafka": ("faust", "kafka", "aiokafka"), "postgres": ("psycopg",)}[extra]
    done = subprocess.run([sys.executable, "-c", WITHOUT % (blocked,), json.dumps(args)], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 1
    assert f"pip install 'cae-engine[{extra}]'" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
