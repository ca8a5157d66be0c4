"""The SEPA credit transfer file of the net pay (pain.001.001.03, DOMAIN.md rule 13), written by sepaxml.

pain.001.001.03 is the version every French bank takes. sepaxml builds the
XML and validates it against the schema it ships before giving it back, so a
file that leaves here is one the bank's parser will read; names and
remittances are transliterated to the SEPA character set (`clean=True`).

The file is a function of what it pays: sepaxml makes its message and batch
ids from the clock and a random string, and its creation time from the clock;
here they come from the content (a digest of the debtor, the execution date and
the transactions) and the execution date, so that the staff's download
(`web.pages_bank`) and `cae payroll transfers` give the same bytes for the same
month, and the same file written again is recognisably the same (issue 16).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

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


class _SameFileTwice(SepaTransfer):
    """sepaxml's transfer, whose ids and creation time are set from the content, not the clock.

    They are written once the batch is finalised (sepaxml's `_finalize_batch`, which
    `export` calls before it validates against the schema), over sepaxml's own.
    """

    def __init__(self, config: dict[str, Any], message_id: str, created: str) -> None:
        super().__init__(config, schema=SCHEMA, clean=True)
        self.fixed = message_id, created

    def _finalize_batch(self) -> None:
        super()._finalize_batch()
        message_id, created = self.fixed
        root = self._xml.find(self.root_el)
        root.find("GrpHdr/MsgId").text = message_id
        root.find("GrpHdr/CreDtTm").text = created
        for n, node in enumerate(root.iter("PmtInfId"), start=1):
            node.text = f"{message_id}-{n}"


def _message_id(debtor: Debtor, payees: Sequence[Payee], execution_date: date) -> str:
    """`PAY-` and 24 hexadecimal digits of the file's content: within the 35 characters of a MsgId."""
    content = "\x1e".join(["\x1f".join((debtor.name, debtor.iban, debtor.bic or "", execution_date.isoformat()))]
                          + ["\x1f".join((p.member_id, p.name, p.iban or "", str(p.amount), p.end_to_end_id,
                                          p.remittance)) for p in payees])
    return "PAY-" + hashlib.sha256(content.encode()).hexdigest()[:24].upper()


def transfers_file(debtor: Debtor, payees: Sequence[Payee], execution_date: date) -> bytes:
    """One batch of transfers, one transaction per payee (each with its IBAN), in the order given; the
    same bytes for the same debtor, payees and date (its creation time: the execution date's midnight)."""
    config = {"name": debtor.name, "IBAN": debtor.iban, "batch": True, "currency": "EUR"}
    if debtor.bic:
        config["BIC"] = debtor.bic
    sepa = _SameFileTwice(config, _message_id(debtor, payees, execution_date), f"{execution_date.isoformat()}T00:00:00")
    for payee in payees:
        if payee.iban is None:
            raise ValueError(f"{payee.member_id} has no IBAN: list them, do not pay them")
        sepa.add_payment({"name": payee.name, "IBAN": payee.iban, "amount": to_cents(payee.amount),
                          "execution_date": execution_date, "description": payee.remittance,
                          "endtoend_id": payee.end_to_end_id})
    written: bytes = sepa.export(validate=True)
    return written
