"""Nothing weaker at the door (issue 18, point 5): the same fingerprints, the same refusals.

The fingerprints and refusals of the corpus (`tests.fingerprint_corpus`) were recorded by the code
before the hot path was redesigned; a redelivered event must stay a duplicate, never a conflict.
The duplicate-key refusal (DOMAIN.md rule 8) is checked against Python's own parser, which sees
every pair of an object (`object_pairs_hook`), on documents hypothesis writes with keys spelt the
same way or escaped differently (`"a"` and `"\\u0061"` are one key).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.events import EventError, decode
from tests.fingerprint_corpus import TODAY, corpus, key, outcome, recorded
from tests.test_bounds import EXAMPLES


def test_every_line_of_the_corpus_has_todays_fingerprint_or_refusal() -> None:
    table = recorded()
    changed = [(key(raw), raw[:120]) for raw in corpus() if outcome(raw) != table[key(raw)]]
    assert not changed, f"{len(changed)} lines differ, the first: {changed[:3]}"


def test_the_corpus_has_sound_events_of_every_type() -> None:
    sound = {json.loads(raw)["type"] for raw in corpus() if not outcome(raw).startswith("refused")}
    assert set(EXAMPLES) <= sound


class _Twice(Exception):
    pass


def _reference(text: str) -> bool:
    """True when Python's parser finds a key twice in one object of the document."""
    def pairs(found: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({k for k, _ in found}) != len(found):
            raise _Twice
        return dict(found)
    try:
        json.loads(text, object_pairs_hook=pairs)
    except _Twice:
        return True
    return False


_KEYS = st.sampled_from(["type", "event_id", "a", "b", "lines", "label", "é", "😀"])


def _spelt(name: str, draw: Any) -> str:
    """A key as JSON text, each character either as it is or as a `\\uXXXX` escape."""
    out = []
    for char in name:
        if draw(st.booleans()):
            out.append(json.dumps(char, ensure_ascii=True)[1:-1] if ord(char) > 127 else f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


@st.composite
def _document(draw: Any, depth: int = 0) -> str:
    """A JSON object whose keys may repeat (as they are or escaped), with objects and lists inside."""
    members = []
    for name in draw(st.lists(_KEYS, min_size=0 if depth else 1, max_size=5)):
        if depth < 2 and draw(st.integers(0, 3)) == 0:
            value = draw(_document(depth + 1))
        elif depth < 2 and draw(st.integers(0, 4)) == 0:
            value = "[" + ", ".join(draw(st.lists(_document(depth + 1), max_size=2))) + "]"
        else:
            value = json.dumps(draw(st.one_of(st.text(max_size=5), st.integers(-5, 5), st.booleans(), st.none())))
        space = draw(st.sampled_from(["", " ", "\n\t"]))
        members.append(f"{_spelt(name, draw)}{space}:{space}{value}")
    return "{" + ", ".join(members) + "}"


@settings(max_examples=400, deadline=None)
@given(_document())
def test_a_key_twice_is_refused_exactly_when_pythons_parser_sees_it_twice(text: str) -> None:
    try:
        decode(text.encode(), TODAY)
        refused_for_a_key = False
    except EventError as exc:
        refused_for_a_key = exc.message.code == "event.duplicate_key"
    assert refused_for_a_key == _reference(text)
