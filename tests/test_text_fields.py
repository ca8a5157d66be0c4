"""Issue 14, point 9: what a name, a label or an id may hold, and cells that stay text.

Event text refused only the C0 controls (\\x00–\\x1f). The other characters that
make a text read other than it is stored, or that cannot be stored at all, are
refused too, with the field and the character named: DEL and the C1 controls,
the line and paragraph separators (U+2028, U+2029), the bidirectional
embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069, the "Trojan
Source" characters), and lone surrogates (U+D800–U+DFFF: JSON can carry them
as "\\udc00" escapes, but they are not characters; no database stores them).
In spreadsheet cells, text that starts with a space or a fullwidth `＝` is
kept as text like text that starts with `=`.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from engine.events import EventError, claimed_event_id, decode, json_schema
from engine.spreadsheet import csv_cells, xlsx_row

TODAY = date(2026, 12, 5)


def joined(**fields: Any) -> dict[str, Any]:
    return {"event_id": "e1", "type": "member.joined", "occurred_at": "2026-10-01T09:00:00Z",
            "member_id": "M001", "name": "Alice Martin", "joined_on": "2026-01-05", "status": "cape", **fields}


def invoice(**fields: Any) -> dict[str, Any]:
    return {"event_id": "e2", "type": "invoice.issued", "occurred_at": "2026-10-01T09:00:00Z",
            "invoice_id": "F-1", "member_id": "M001", "issued_on": "2026-10-10", "client": "Atelier Nord",
            "lines": [{"label": "Mission", "amount_ht": "100.00", "vat_rate": "0.20"}], **fields}


def with_text(field: str, text: str) -> dict[str, Any]:
    """An event with `text` in `field`: a member's name, an invoice's client or line label, or an id."""
    if field == "name":
        return joined(name=text)
    if field == "lines.0.label":
        return invoice(lines=[{"label": text, "amount_ht": "100.00", "vat_rate": "0.20"}])
    return invoice(**{field: text})


def raw(document: dict[str, Any]) -> bytes:
    """As a JSON line: escaped to ASCII, so that a lone surrogate travels as "\\udc00", as JSON allows."""
    return json.dumps(document).encode()


FIELDS = ["name", "client", "lines.0.label", "event_id", "invoice_id", "member_id"]
HIDDEN = {
    "\x7f": "DEL", "\x80": "first C1 control", "\x85": "NEL", "\x9f": "last C1 control",
    "\u2028": "line separator", "\u2029": "paragraph separator",
    "\u202a": "LRE", "\u202b": "RLE", "\u202c": "PDF", "\u202d": "LRO", "\u202e": "RLO",
    "\u2066": "LRI", "\u2067": "RLI", "\u2068": "FSI", "\u2069": "PDI",
}


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("char", list(HIDDEN), ids=list(HIDDEN.values()))
def test_a_hidden_character_is_refused_with_its_field_and_code(field: str, char: str) -> None:
    with pytest.raises(EventError) as refused:
        decode(raw(with_text(field, f"F{char}1")), TODAY)
    reason = str(refused.value)
    assert reason.startswith(f"{field}: ") and f"U+{ord(char):04X}" in reason, reason
    assert char not in reason  # the reason itself can be shown and stored


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("surrogate", ["\udc00", "\ud800", "\udfff"])
def test_a_lone_surrogate_is_refused_as_what_it_is(field: str, surrogate: str) -> None:
    with pytest.raises(EventError) as refused:
        decode(raw(with_text(field, f"A{surrogate}B")), TODAY)
    reason = str(refused.value)
    assert reason.startswith(f"{field}: ") and f"U+{ord(surrogate):04X}" in reason, reason
    assert "lone surrogate" in reason and "cannot be stored" in reason
    reason.encode("utf-8")  # storable as it is


@pytest.mark.parametrize("text", [
    "Zoé Ñúñez-L'Hôte", "Société Générale", "😀 Studio", "👨‍👩‍👧 famille",  # a pair; ZWJ joins emoji
    "مكتبة النور", "שלום", "Café\u00a0du\u00a0Port", "株式会社テスト", "ﺍﻟﻨﻮﺭ", "a\u200cb",  # ZWNJ: Persian
])
def test_what_people_write_is_kept(text: str) -> None:
    event = decode(raw(joined(name=text)), TODAY)
    assert event.get("name") == text


def test_the_id_of_a_refused_line_is_not_kept_when_it_cannot_be_stored() -> None:
    """A refused line's claimed id labels its dead letter: it must be storable, or none."""
    assert claimed_event_id(raw(joined(event_id="x\udc00"))) is None
    assert claimed_event_id(raw(joined(event_id="x\u202e"))) is None
    assert claimed_event_id(raw(joined(event_id="ok-1", status="boss"))) == "ok-1"


_BIDI_CONTROLS = {"LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI", "FSI", "PDI"}


def _shown_as_stored(char: str) -> bool:
    """Unicode's own classes: not a control (Cc), a surrogate (Cs), a line or paragraph
    separator (Zl, Zp), nor a bidirectional control: what the engine must keep out."""
    return (unicodedata.category(char) not in ("Cc", "Cs", "Zl", "Zp")
            and unicodedata.bidirectional(char) not in _BIDI_CONTROLS)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=()), min_size=1, max_size=30), st.sampled_from(FIELDS))
def test_text_is_taken_exactly_when_every_character_shows_as_stored(text: str, field: str) -> None:
    try:
        event = decode(raw(with_text(field, text)), TODAY)
    except EventError as refused:
        assert not all(map(_shown_as_stored, text)), (text, str(refused))
        str(refused).encode("utf-8")
        return
    assert all(map(_shown_as_stored, text)), text
    assert (event.get(field) if "." not in field else event.get("lines")[0].label) == text
    text.encode("utf-8")  # what was taken can be stored


# -- spreadsheet cells ---------------------------------------------------------------------------

FORMULA_LIKE = [" =1+1", "  @SUM(1)", "\u3000=1+1", "\u00a0=1", "＝1+1", "＋1", "－1", "＠SUM(1)",
                "=1+1", "+1", "-1", "@SUM(1)", "\t=1", "\r=1", "\n=1"]


@pytest.mark.parametrize("text", FORMULA_LIKE)
def test_a_cell_that_a_spreadsheet_could_read_as_a_formula_stays_text(text: str) -> None:
    out = io.StringIO()
    csv.writer(out).writerow(csv_cells([text]))
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["'" + text]
    sheet = Workbook().active
    xlsx_row(sheet, [text])
    assert sheet["A1"].data_type == "s" and sheet["A1"].quotePrefix and sheet["A1"].value == text


@pytest.mark.parametrize("text", ["Alice Martin", "Ωmega=1", "M001", "F-1", "1 000 €"])
def test_other_cells_are_written_as_they_are(text: str) -> None:
    assert csv_cells([text]) == [text]
    sheet = Workbook().active
    xlsx_row(sheet, [text])
    assert not sheet["A1"].quotePrefix


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30))
def test_the_published_text_pattern_takes_what_the_door_takes(text: str) -> None:
    """`cae schema` is what a producer checks its events against: it must refuse what we refuse."""
    pattern = json_schema()["$defs"]["MemberJoined"]["properties"]["name"]["pattern"]
    try:
        decode(raw(joined(name=text)), TODAY)
        taken = True
    except EventError:
        taken = False
    ecma = pattern.removesuffix("$") + r"\Z"  # JSON Schema's `$` is the very end; Python's lets a "\n" by
    assert bool(re.search(ecma, text)) == taken, text
