"""Figures and dates as the cooperative's people read them: in French, by Babel (CLDR's fr_FR).

`1 234,56 €` (a narrow no-break space between thousands, a comma before the
cents, a no-break space before the euro sign), `11,5 %`, `octobre 2026`,
`1er novembre 2026`. Pure formatting: the amounts are the ledger's Decimals,
unchanged, always shown with their cents.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone, tzinfo
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from engine.money import CENT

LOCALE = "fr_FR"


def number(value: Decimal | int) -> str:
    """`1 234,56`, `-115,00`, `0,00`."""
    return format_decimal(Decimal(value).quantize(CENT), format="#,##0.00", locale=LOCALE)


def euros(value: Decimal | int) -> str:
    """`1 234,56 €`."""
    return format_currency(Decimal(value).quantize(CENT), "EUR", locale=LOCALE)


def percent(rate: Decimal) -> str:
    """A rate as a percentage with the decimals it has: `0.115` → `11,5 %`, `0.03` → `3 %`."""
    return format_decimal(rate * 100, format="#,##0.######", locale=LOCALE) + "\u00a0%"


def month_label(month: str) -> str:
    """`2026-10` as `octobre 2026`."""
    return format_date(date(int(month[:4]), int(month[5:7]), 1), "MMMM y", locale=LOCALE)


def day_label(day: date) -> str:
    """`3 novembre 2026`; the first of a month is `1er` as French writes it (CLDR has no ordinal here)."""
    text = format_date(day, "d MMMM y", locale=LOCALE)
    return "1er" + text[1:] if day.day == 1 else text


def local_time(moment: datetime, zone: tzinfo) -> str:
    """A stored time (UTC; SQLite gives it naive) as read where the cooperative is, with its zone."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


# The parser's and validator's own English details (pydantic, its JSON reader), as French readers
# read them (issue 15): each known phrase, its numbers kept; an unknown one says only that the value
# is refused rather than show English on a page.
_DETAILS: tuple[tuple[str, str], ...] = (
    (r"EOF while parsing an? \w+", "le texte s'arrête au milieu d'une valeur"),
    (r"key must be a string", "une clé doit être une chaîne entre guillemets"),
    (r"trailing characters|trailing comma", "des caractères suivent la fin de l'objet"),
    (r"expected value", "une valeur est attendue"),
    (r"expected ident", "un mot JSON (true, false, null) est attendu"),
    (r"expected `(.)` or `(.)` after \w+ \w+", "« \\1 » ou « \\2 » attendu"),
    (r"expected `(.)`.*", "« \\1 » attendu"),
    (r"invalid escape|invalid unicode code point", "séquence d'échappement non valable"),
    (r"control character .* found while parsing a string", "caractère de contrôle dans une chaîne"),
    (r"recursion limit exceeded|nested too deeply", "trop de niveaux imbriqués"),
    (r"Input should be a valid string", "une chaîne de caractères est attendue"),
    (r"Input should be a valid integer.*", "un nombre entier est attendu"),
    (r"Input should be a valid date.*", "une date AAAA-MM-JJ est attendue"),
    (r"Input should be a valid datetime.*", "une date et heure ISO 8601 est attendue"),
    (r"Input should be a valid (list|tuple|array).*", "une liste est attendue"),
    (r"Input should be a valid (dictionary|object).*", "un objet est attendu"),
    (r"Input should be a valid boolean.*", "true ou false est attendu"),
    (r"Input should be (('[^']*'(, | or )?)+)", "la valeur doit être \\1"),
    (r"String should have at most (\d+) characters?", "au plus \\1 caractère(s)"),
    (r"String should have at least (\d+) characters?", "au moins \\1 caractère(s)"),
    (r"List should have at least (\d+) items?.*", "au moins \\1 élément(s)"),
    (r"(List|Tuple) should have at most (\d+) items?.*", "au plus \\2 élément(s)"),
    (r"Input should be greater than or equal to (\S+)", "au moins \\1"),
    (r"Input should be less than or equal to (\S+)", "au plus \\1"),
    # schwifty's reasons for an IBAN it refuses (a member's, issue 16 point 4)
    (r"Invalid checksum digits", "les chiffres de contrôle ne correspondent pas : une faute de frappe ?"),
    (r"Invalid IBAN length", "la longueur n'est pas celle des IBAN de ce pays"),
    (r"Unknown country-code '([^']*)'", "code pays « \\1 » inconnu"),
    (r"Invalid BBAN structure: .*", "la partie nationale n'a pas la forme attendue pour ce pays"),
    (r"Invalid characters in IBAN .*", "des caractères ne peuvent pas figurer dans un IBAN"),
    (r"Invalid BBAN checksum", "la clé du compte national (clé RIB) ne correspond pas"),
)


def detail(text: str) -> str:
    """A parser's English detail in French: `EOF while parsing a list at line 1 column 2` →
    `le texte s'arrête au milieu d'une valeur, ligne 1, colonne 2`."""
    where = re.search(r"\s+at line (\d+) column (\d+)$", text)
    head = text[:where.start()] if where else text
    said = next((re.sub(pattern, french, head.strip()).replace(" or ", " ou ")
                 for pattern, french in _DETAILS if re.fullmatch(pattern, head.strip())), "valeur refusée")
    return f"{said}, ligne {where.group(1)}, colonne {where.group(2)}" if where else said
