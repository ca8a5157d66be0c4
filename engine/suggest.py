""""Did you mean": an unknown id answered with the known ones closest to it.

A staff member who types `AG2026` for `AGO-2026`, or `statment` for
`statement`, should read the right word in the refusal rather than look it up.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from engine.messages import Message

SHOWN = 5


def closest(word: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known words most like `word`, best first (case ignored).

    Those that begin or end with it come first: `R1` is the tail of `AGO-2026-R1`,
    though too short to look like it letter by letter.
    """
    pool = {k.lower(): k for k in known}
    typed = word.lower()
    ends = sorted(k for k in pool if typed and k != typed and (k.endswith(typed) or k.startswith(typed)))
    alike = difflib.get_close_matches(typed, list(pool), n=n, cutoff=0.5)
    return [pool[k] for k in dict.fromkeys([*ends, *alike])][:n]


def unknown(kind: str, word: str, known: Iterable[str]) -> Message:
    """`unknown assembly "AG2026" (did you mean "AGO-2026"?)`, or the first known ones when none is close.

    `kind`: member, assembly or resolution (the catalogue's `KIND.unknown…` codes).
    """
    pool = sorted(set(known))
    near = closest(word, pool)
    if near:
        return Message.of(f"{kind}.unknown.near", word=word, near=tuple(near))
    if len(pool) > SHOWN:
        return Message.of(f"{kind}.unknown.some", word=word, known=tuple(pool[:SHOWN]), total=len(pool))
    if pool:
        return Message.of(f"{kind}.unknown.known", word=word, known=tuple(pool))
    return Message.of(f"{kind}.unknown", word=word)
