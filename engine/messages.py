"""One catalogue of what users read: a stable code and its parameters, in English or in French.

The command line and the API speak English, the pages and PDFs French
(issue 15): a refusal is made once, as a `Message` (code + parameters), and
each surface renders it in its language. The code is stable, so the API can
add it to its `error` and a dead letter can keep it beside its English text.

A template names each parameter with its kind after a colon, and the kind
decides how it reads in each language:

- `{member:id}`: an id or a text the user sent, `"M001"` / « M001 »;
- `{known:ids}`: a few of them, `"A", "B"` / « A », « B »;
- `{near:either}`: the same as choices, `"A" or "B"` / « A » ou « B »;
- `{amount:money}`: `1234.50` / `1 234,50 €`;
- `{rate:percent}`: `11.5 %` / `11,5 %`;
- `{day:date}`: `2026-10-03` / `3 octobre 2026`;
- `{month:month}`: `2026-10` / `octobre 2026`;
- `{n}` (no kind): as it is.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from engine import french
from engine.money import fmt
from engine.wording import term

Language = Literal["en", "fr"]


@dataclass(frozen=True, slots=True)
class Message:
    """A code of `CATALOGUE` and its parameters; immutable, so it can travel in an exception."""

    code: str
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, code: str, **params: Any) -> Message:
        if code not in CATALOGUE:
            raise KeyError(f"no message {code!r} in the catalogue")
        return cls(code, tuple(sorted(params.items())))

    def text(self, language: Language = "en") -> str:
        english, french_text = CATALOGUE[self.code]
        return _Formatter(language).vformat(english if language == "en" else french_text, (), dict(self.params))

    def to_json(self) -> dict[str, Any]:
        """The code and its parameters as JSON values (amounts and dates as their strings)."""
        return {"code": self.code, "params": {k: _plain(v) for k, v in self.params}}


class Refused(ValueError):
    """An exception that carries its `Message`; its str() is the English text, for logs and the CLI."""

    def __init__(self, message: Message | str, **params: Any) -> None:
        self.message = message if isinstance(message, Message) else Message.of(message, **params)
        super().__init__(self.message.text("en"))


def text_of(error: BaseException, language: Language) -> str:
    """What to show of an error: its message in `language` when it carries one, else its English text."""
    found = getattr(error, "message", None)
    return found.text(language) if isinstance(found, Message) else str(error)


def _plain(value: Any) -> Any:
    if isinstance(value, (Decimal, date)):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


class _Formatter(string.Formatter):
    def __init__(self, language: Language) -> None:
        self.language = language

    def format_field(self, value: Any, format_spec: str) -> str:
        kind = format_spec
        if kind == "id":
            return term(value) if self.language == "en" else f"«\u00a0{value}\u00a0»"
        if kind in ("ids", "either"):
            joint = ", " if kind == "ids" else " or " if self.language == "en" else " ou "
            return joint.join(self.format_field(v, "id") for v in value)
        if kind == "money":
            return fmt(Decimal(value)) if self.language == "en" else french.euros(Decimal(value))
        if kind == "percent":
            return _percent(Decimal(value), self.language)
        if kind == "date":
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
            return day.isoformat() if self.language == "en" else french.day_label(day)
        if kind == "month":
            return str(value) if self.language == "en" else french.month_label(str(value))
        return super().format_field(value, kind)


def _percent(rate: Decimal, language: Language) -> str:
    return f"{(rate * 100).normalize():f} %" if language == "en" else french.percent(rate)


# code: (English, French). Codes are stable: add new ones, never reuse or rename one.
CATALOGUE: Mapping[str, tuple[str, str]] = {
    "member.unknown": ('unknown member {word:id} (there is none yet)', "membre inconnu {word:id} (aucun pour l'instant)"),
    "member.unknown.near": ("unknown member {word:id} (did you mean {near:either}?)",
                            "membre inconnu {word:id} (vouliez-vous dire {near:either} ?)"),
    "member.unknown.known": ("unknown member {word:id} (known: {known:ids})", "membre inconnu {word:id} (connus : {known:ids})"),
    "member.unknown.some": ("unknown member {word:id} (known: {known:ids}, … {total} in all)",
                            "membre inconnu {word:id} (connus : {known:ids}, … {total} en tout)"),
    "assembly.unknown": ("unknown assembly {word:id} (there is none yet)",
                         "assemblée inconnue {word:id} (aucune pour l'instant)"),
    "assembly.unknown.near": ("unknown assembly {word:id} (did you mean {near:either}?)",
                              "assemblée inconnue {word:id} (vouliez-vous dire {near:either} ?)"),
    "assembly.unknown.known": ("unknown assembly {word:id} (known: {known:ids})",
                               "assemblée inconnue {word:id} (connues : {known:ids})"),
    "assembly.unknown.some": ("unknown assembly {word:id} (known: {known:ids}, … {total} in all)",
                              "assemblée inconnue {word:id} (connues : {known:ids}, … {total} en tout)"),
    "resolution.unknown": ("unknown resolution {word:id} (there is none yet)",
                           "résolution inconnue {word:id} (aucune pour l'instant)"),
    "resolution.unknown.near": ("unknown resolution {word:id} (did you mean {near:either}?)",
                                "résolution inconnue {word:id} (vouliez-vous dire {near:either} ?)"),
    "resolution.unknown.known": ("unknown resolution {word:id} (known: {known:ids})",
                                 "résolution inconnue {word:id} (connues : {known:ids})"),
    "resolution.unknown.some": ("unknown resolution {word:id} (known: {known:ids}, … {total} in all)",
                                "résolution inconnue {word:id} (connues : {known:ids}, … {total} en tout)"),
    "resolution.assembly_unknown": ("resolution {resolution:id} names unknown assembly {assembly:id}",
                                    "la résolution {resolution:id} renvoie à une assemblée inconnue {assembly:id}"),
    "member.not_yet_joined": ("{member} joined on {joined:date}: there is no statement for {month:month}",
                              "{member} est arrivé(e) le {joined:date} : il n'y a pas d'état des comptes "
                              "pour {month:month}"),
}
