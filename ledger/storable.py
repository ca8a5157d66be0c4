"""Text that every backend stores as it is given: what we record about a line we could not take.

A line refused for its content must still be recorded (issue 14, point 1: no
poison message), and what we record comes from that very line: the event id it
claims, a reason quoting it, the name of the file it came from. Two kinds of
character cannot be stored everywhere: a lone surrogate (`"\\udc00"` in JSON
text decodes to one, as does a file name that is not UTF-8) is not UTF-8 at
all, so neither SQLite nor PostgreSQL nor a Kafka message takes it; and
PostgreSQL's text types refuse NUL. Both are written back as JSON would escape
them (`\\udc00`, `\\u0000`): readable, and unambiguous to whoever reads the
dead letter beside its bytes, which are kept as they came.
"""

from __future__ import annotations

import re

from ledger.schema import Id

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
ID_LENGTH = Id.length or 128  # the dead letters' event_id column


def storable(text: str, limit: int | None = None) -> str:
    """`text` with lone surrogates and NUL escaped, cut to `limit` characters."""
    escaped = _UNSTORABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
    return escaped if limit is None else escaped[:limit]


def storable_id(claimed: str | None) -> str | None:
    """An event id as a dead letter keeps it: escaped, or none if escaping makes it too long.

    Cutting it would name another event (whose processing would then settle
    this letter as corrected); no id at all only means no event settles it.
    """
    if claimed is None:
        return None
    escaped = storable(claimed)
    return escaped if len(escaped) <= ID_LENGTH else None
