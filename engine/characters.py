"""Which characters a name, a label or an id may not hold (issue 8; issue 14, point 9).

Those that make a text read other than it is stored, or that cannot be stored
at all: the controls (C0, DEL, C1: a tab, a newline, NEL…), the line and
paragraph separators, the bidirectional embeddings, overrides and isolates
(the "Trojan Source" characters: U+202E turns "Facture 1234" around on a
screen), and lone surrogates, which JSON can carry as "\\udc00" escapes but are
not characters: no UTF-8 encoder, so no database, takes them. Joiners (ZWJ
in emoji, ZWNJ in Persian) and the directional marks stay: real names use them.
"""

from __future__ import annotations

import re

from engine.messages import Message

_CLASSES = (  # (first, last, the catalogue's code of what it is: engine.messages)
    ("\x00", "\x1f", "character.control"),
    ("\x7f", "\x9f", "character.control"),
    ("\u2028", "\u2029", "character.separator"),
    ("\u202a", "\u202e", "character.bidi"),
    ("\u2066", "\u2069", "character.bidi"),
    ("\ud800", "\udfff", "character.surrogate"),
)


def _ranges(classes: tuple[tuple[str, str, str], ...]) -> str:
    return "".join(f"\\u{ord(first):04x}-\\u{ord(last):04x}" for first, last, _ in classes)


# For pydantic's (Rust) validator and the published JSON Schema: a JSON string cannot hold a lone
# surrogate (the parser refuses it first, and `events.decode` says where), and Rust has no such char.
PATTERN = f"^[^{_ranges(_CLASSES[:-1])}]+$"
_HIDDEN = re.compile(f"[{_ranges(_CLASSES)}]")
# A text of paragraphs (a resolution's text, the summary of the debates, issue 17) may hold a
# newline (U+000A) and nothing else of the above: every other class stays out.
PARAGRAPHS_PATTERN = f"^[^\\u0000-\\u0009\\u000b-\\u001f{_ranges(_CLASSES[1:-1])}]+$"


def hidden_character(text: str) -> Message | None:
    """Why `text` cannot be taken, naming its first such character; None when it can."""
    found = _HIDDEN.search(text)
    if found is None:
        return None
    code = ord(found.group())
    what = next(what for first, last, what in _CLASSES if ord(first) <= code <= ord(last))
    return Message.of(what, point=f"{code:04X}")


def hidden_in_paragraphs(text: str) -> Message | None:
    """`hidden_character` for a text of paragraphs, where a newline is allowed."""
    return hidden_character(text.replace("\n", " "))
