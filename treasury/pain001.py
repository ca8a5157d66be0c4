"""The SEPA credit transfer file of the net pay (pain.001.001.03, DOMAIN.md rule 13), written by sepaxml.

pain.001.001.03 is the version every French bank takes. sepaxml builds the
XML and validates it against the schema it ships before giving it back, so a
file that leaves here is one the bank's parser will read; names and
remittances are transliterated to the SEPA character set (`clean=True`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sepaxml import SepaTransfer

from engine.money import to_cents
from engine.payouts import Payee

SCHEMA = "pain.001.001.03"


@dataclass(frozen=True, slots=True)
class Debtor:
    """The cooperative's account the salaries leave from."""

    name: str
    iban: str
    bic: str | None = None


def transfers_file(debtor: Debtor, payees: Sequence[Payee], execution_date: date) -> bytes:
    """One batch of transfers, one transaction per payee (each with its IBAN), in the order given."""
    config = {"name": debtor.name, "IBAN": debtor.iban, "batch": True, "currency": "EUR"}
    if debtor.bic:
        config["BIC"] = debtor.bic
    sepa = SepaTransfer(config, schema=SCHEMA, clean=True)
    for payee in payees:
        if payee.iban is None:
            raise ValueError(f"{payee.member_id} has no IBAN: list them, do not pay them")
        sepa.add_payment({"name": payee.name, "IBAN": payee.iban, "amount": to_cents(payee.amount),
                          "execution_date": execution_date, "description": payee.remittance,
                          "endtoend_id": payee.end_to_end_id})
    written: bytes = sepa.export(validate=True)
    return written
