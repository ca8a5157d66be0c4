"""The catalogue of messages (issue 15): one code, its parameters, English for the CLI and API, French for pages."""

from __future__ import annotations

import string
from datetime import date

import pytest
from sqlalchemy import Engine

from engine.events import EventError, decode
from engine.messages import CATALOGUE, Message, Refused, text_of
from ledger import deadletters
from ledger.deadletters import DeadLetter


def _fields(template: str) -> set[tuple[str, str]]:
    return {(name, spec or "") for _, name, spec, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_each_message_has_both_languages_with_the_same_parameters(code: str) -> None:
    english, french = CATALOGUE[code]
    assert english and french and english != french
    assert _fields(english) == _fields(french), code
    assert all(spec in ("", "id", "ids", "either", "money", "percent", "date", "month", "field", "detail", "message", "thing", "as_is",
                                       "messages", "list", "then", "names") for _, spec in _fields(english)), code


def test_parameters_read_in_each_language_as_its_users_write_them() -> None:
    message = Message.of("member.not_yet_joined", member="M1", joined=date(2026, 3, 2), month="2026-02")
    assert message.text("en") == "M1 joined on 2026-03-02: there is no statement for 2026-02"
    assert message.text("fr") == "M1 est arrivé(e) le 2 mars 2026 : il n'y a pas d'état des comptes pour février 2026"
    near = Message.of("assembly.unknown.near", word="AG", near=("AGO-2026", "AGE-2026"))
    assert near.text("en") == 'unknown assembly "AG" (did you mean "AGO-2026" or "AGE-2026"?)'
    assert near.text("fr") == ("assemblée inconnue «\u00a0AG\u00a0» (vouliez-vous dire «\u00a0AGO-2026\u00a0» "
                               "ou «\u00a0AGE-2026\u00a0» ?)")
    assert message.to_json() == {"code": "member.not_yet_joined",
                                 "params": {"joined": "2026-03-02", "member": "M1", "month": "2026-02"}}


def test_a_refusal_carries_its_message_and_reads_in_english_by_default() -> None:
    error = Refused("member.unknown.known", word="M9", known=("M1", "M2"))
    assert str(error) == 'unknown member "M9" (known: "M1", "M2")'
    assert text_of(error, "fr") == "membre inconnu «\u00a0M9\u00a0» (connus : «\u00a0M1\u00a0», «\u00a0M2\u00a0»)"
    assert text_of(ValueError("plain"), "fr") == "plain"
    with pytest.raises(KeyError):
        Message.of("no.such.code")


def test_the_parsers_english_details_read_in_french() -> None:
    message = Message.of("event.not_json", detail="EOF while parsing a list at line 1 column 2")
    assert message.text("en") == "not valid JSON (EOF while parsing a list at line 1 column 2)"
    assert message.text("fr") == "ce n'est pas du JSON valide (le texte s'arrête au milieu d'une valeur, ligne 1, colonne 2)"
    assert Message.of("event.field_detail", field="x", detail="something pydantic says").text("fr") == \
        "«\u00a0x\u00a0» : valeur refusée"


def test_a_dead_letter_keeps_its_reasons_code_and_reads_in_french(engine: Engine) -> None:
    """Issue 15: the English reason for the CLI and API, its code and parameters for the French pages;
    a letter recorded without one (before revision 0011) shows its English."""
    float_amount = (b'{"type": "expense.recorded", "event_id": "E1", "occurred_at": "2026-10-03T10:00:00Z", '
                    b'"member_id": "M1", "expense_id": "X1", "incurred_on": "2026-10-02", "amount": 12.5}')
    refused = []
    for n, line in enumerate([b"{oops", float_amount], 1):
        with pytest.raises(EventError) as error:
            decode(line, date(2026, 12, 5))
        refused.append(DeadLetter.of(line, error.value, f"a:{n}", None))
    assert refused[0].reason.startswith("not valid JSON (")
    with engine.begin() as conn:
        deadletters.record(conn, [*refused, DeadLetter(b"older", "an English reason of old", "a:3")])
        letters = deadletters.listed(conn)
    assert [d.message.code if d.message else None for d in letters] == ["event.not_json", "event.field_missing", None]
    assert letters[0].reason_in("en") == letters[0].reason
    assert letters[0].reason_in("fr").startswith("ce n'est pas du JSON valide (")
    assert letters[1].reason_in("fr").startswith("champ manquant «\u00a0")
    assert letters[2].reason_in("fr") == "an English reason of old"


def test_a_message_shown_alone_starts_with_a_capital_but_a_quoted_field_stays_as_written() -> None:
    from web.words import sentence

    assert sentence(Message.of("login.throttled", minutes=15).text("fr")).startswith("Trop de tentatives")
    assert sentence("«\u00a0iban\u00a0» : refusé") == "«\u00a0iban\u00a0» : refusé"
    assert sentence("") == ""
