"""What every statement reader shares: its one-line error, amounts to the cent, and IBANs.

A file that cannot be read is refused whole with one line in English that
names the format and where it broke (CONTRACT.md §5, `cae bank import`).
IBANs are checked with schwifty (country, length, check digits and, for
France, the RIB key), never by a hand-written modulo.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from engine.messages import Message, Refused
from engine.money import CENT

# A bound on any amount read from a file: 13 digits before the point, as in a
# CFONB 120 amount; far above any cooperative's account, and it keeps a
# hostile "1E+999999" out of the arithmetic.
LIMIT = Decimal("1e13")


class StatementFileError(Refused):
    """A statement file that cannot be read: format, where it broke, and why, on one line.

    A message of the catalogue, so that the staff's upload page says it in French
    (issue 16, point 7); the readers' own details (where in the file, what broke)
    are still English words inside it, marked so in French, unless `refused`
    gives a message of its own.
    """

    def __init__(self, format_name: str, where: str, why: str, refused: Message | None = None) -> None:
        super().__init__(refused or Message.of("bank.file_unreadable", format=format_name, where=where, why=why))


def exact_amount(value: Decimal, format_name: str, where: str) -> Decimal:
    """An amount to the cent: refused, not rounded, when it has sub-cent digits or is absurd."""
    if not value.is_finite() or abs(value) >= LIMIT:
        raise StatementFileError(format_name, where, f"amount {value} is out of range")
    cents = value.quantize(CENT)
    if cents != value:
        raise StatementFileError(format_name, where, f"amount {value} has more than 2 decimals")
    return cents


def joined(texts: Iterable[str | None]) -> str | None:
    """Texts of one line (label, remittance parts, memo), each once, blanks collapsed; None when empty.

    Banks repeat themselves (CFONB's LIB and LCC often hold the same words,
    OFX's NAME is often the start of MEMO): a text already there is not added again.
    """
    kept: list[str] = []
    for text in texts:
        cleaned = " ".join((text or "").split())
        if cleaned and cleaned not in kept:
            kept.append(cleaned)
    return " ".join(kept) or None


def iban_or_none(text: str | None) -> str | None:
    """A counterparty's IBAN in its compact form when it is valid, else nothing.

    A counterparty's broken IBAN is the other bank's data, not a reason to
    refuse our statement; it could never match a member's registered IBAN.
    """
    if not text:
        return None
    try:
        return IBAN(text).compact
    except SchwiftyException:
        return None


def account_iban(text: str, format_name: str, where: str) -> str:
    """The statement's own account: an invalid IBAN there means a broken file, refused."""
    try:
        return IBAN(text).compact
    except SchwiftyException as error:
        raise StatementFileError(
            format_name, where, f"account IBAN {text!r} is not valid ({error})"
        ) from None


def french_iban(bank: str, branch: str, account: str, format_name: str, where: str) -> str:
    """The IBAN of a French account from its RIB: bank (5), branch (5), account number (11).

    schwifty computes the RIB key (97 − (89 × bank + 15 × branch + 3 × account)
    mod 97, letters mapped to digits) and the IBAN check digits, so a CFONB or
    OFX statement names its account exactly as a CAMT.053 one of the same
    account does.
    """
    try:
        return IBAN.generate("FR", bank_code=bank, branch_code=branch, account_code=account).compact
    except SchwiftyException as error:
        raise StatementFileError(
            format_name,
            where,
            f"bank {bank!r}, branch {branch!r}, account {account!r} make no IBAN ({error})",
        ) from None
