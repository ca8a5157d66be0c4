"""The optional parts of the install, and the one line that says how to add a missing one.

The embedded default (SQLite, a file of events) needs none of them; `pip install .`
leaves them out so that it stays small and quick (issue 11). A command that needs one
says which to install instead of failing on an import.
"""

from __future__ import annotations

import importlib.util

EXTRAS = {  # extra -> the modules it brings
    "kafka": ("faust", "aiokafka", "kafka"),
    "postgres": ("psycopg",),
    "pdf": ("weasyprint",),
    "charts": ("matplotlib",),
}


class MissingExtra(RuntimeError):
    """A part of the install a command needs and does not have."""


def installed(extra: str) -> bool:
    return all(_found(module) for module in EXTRAS[extra])


def _found(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken install, or a module set to None in sys.modules
        return False


def require(extra: str, what: str) -> None:
    """`MissingExtra` saying how to install `extra`, when `what` (a command, a feature) needs it."""
    if not installed(extra):
        raise MissingExtra(f"{what} needs the {extra} extra, not installed here: "
                           f"pip install 'cae-engine[{extra}]'")
