"""Paying the net pay out (DOMAIN.md rule 13): who is paid, and the transfer's stable reference.

Pure. The end-to-end id travels with the transfer through the banks and comes
back on the statement's debit line, where rule 11 c matches it: it must be
the same whenever the month's file is written again (so one payslip is one
transfer), at most 35 characters of the SEPA set, and tell a person reading
the statement whose pay it was when it can.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal

MAX_END_TO_END = 35
_SEPA_ID = re.compile(r"[A-Za-z0-9-]+")


def end_to_end_id(month: str, member_id: str, revision: int) -> str:
    """`SAL-YYYYMM-<member>-<revision>` when it fits and the id is plain; else a digest of the same three.

    The revision is the payslip's (a correction is paid by a transfer of its own).
    """
    readable = f"SAL-{month.replace('-', '')}-{member_id}-{revision}"
    if len(readable) <= MAX_END_TO_END and _SEPA_ID.fullmatch(member_id):
        return readable
    digest = hashlib.sha256(f"{month}\x1f{member_id}\x1f{revision}".encode()).hexdigest()[:24].upper()
    return f"SAL-{month.replace('-', '')}-{digest}"


@dataclass(frozen=True, slots=True)
class Payee:
    """One member's net pay to transfer."""

    member_id: str
    name: str
    iban: str | None  # None or invalid: listed, not paid
    amount: Decimal
    end_to_end_id: str
    remittance: str
