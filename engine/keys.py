"""Internal keys: the ids under which the engine records its own work, in a namespace no event can take.

The payroll, its corrections and the year's close record their work in the
same table of processed ids as the events, so that "once per key" holds for
them too. An incoming event chose its own id, and `payroll:2026-10:M1` is a
valid one: if the payroll used that text, such an event would take the key of
a member's payslip and the month's payroll would fail for everyone (issue 8).
Internal keys therefore begin with the unit separator (U+001F), a control
character that `engine.events` refuses in every id: no event can ever hold one.
"""

from __future__ import annotations

PREFIX = "\x1f"


def internal_key(kind: str, *parts: str) -> str:
    """`internal_key("payroll", "2026-10", "M1")`: the payslip of M1 for October 2026."""
    return PREFIX + ":".join((kind, *parts))


def is_internal(key: str) -> bool:
    return key.startswith(PREFIX)


def shown(key: str) -> str:
    """A key as people read it: an internal one as `(payroll:2026-10:M1)`."""
    return f"({key[len(PREFIX):]})" if is_internal(key) else key
