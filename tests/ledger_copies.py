"""A fresh SQLite ledger per hypothesis example: a copy of one migrated template, not a migration each time."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ledger.db import make_engine, open_ledger


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty ledger file that `fresh_ledger` copies (a fixture: import it into the test module)."""
    path = tmp_path_factory.mktemp("ledgers") / "template.db"
    open_ledger(f"sqlite:///{path}").dispose()
    return path


@contextmanager
def fresh_ledger(template: Path) -> Iterator[Engine]:
    """An engine on a new copy of the template, deleted after use."""
    path = template.parent / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()
        path.unlink()
