"""The staff's view of membership: status, associate since, capital held, and the associate deadline.

Code du travail L7331-3 (loi ESS n° 2014-856, art. 47): within three years
of the conclusion of their CESA contract, an entrepreneur salarié becomes an
associate of the CAE, a delay shortened by the time spent before it under a
CAPE (contrat d'appui au projet d'entreprise); otherwise the contract ends.
The contract's start is the member's first `salarie` status; the CAPE time
is what they spent in `cape` before it. The capital held is the credit
balance of their account 1013 (DOMAIN.md rule 4): the ledger says it, this
module only shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from engine.money import ZERO, fmt
from engine.state import status_on
from governance.records import MemberFacts

YEARS_TO_ASSOCIATE = 3


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February falls to the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True, slots=True)
class MemberView:
    member_id: str
    name: str
    status: str | None
    associate: bool
    joined_on: date
    associate_on: date | None
    left_on: date | None
    capital: Decimal
    cesa_since: date | None
    associate_by: date | None
    days_left: int | None
    share_nominal: Decimal = Decimal("25.00")

    @property
    def deadline_passed(self) -> bool:
        """A salarié not yet an associate past their deadline (three years from their first contract)."""
        return self.days_left is not None and self.days_left < 0

    @property
    def shares(self) -> int:
        """The whole shares the capital buys at the statutes' nominal value (DOMAIN.md, the fiscal year)."""
        return int(max(self.capital, ZERO) // self.share_nominal)

    @property
    def toward_next_share(self) -> Decimal:
        """The capital beyond the whole shares: paid toward the next one."""
        return max(self.capital, ZERO) - self.shares * self.share_nominal

    def to_json(self) -> dict[str, Any]:
        def iso(d: date | None) -> str | None:
            return d.isoformat() if d else None
        return {"member_id": self.member_id, "name": self.name, "status": self.status,
                "associate": self.associate,
                "joined_on": iso(self.joined_on), "associate_since": iso(self.associate_on),
                "left_on": iso(self.left_on), "capital": fmt(self.capital), "shares": self.shares,
                "share_nominal": fmt(self.share_nominal), "toward_next_share": fmt(self.toward_next_share),
                "to_complete_next_share": fmt(self.share_nominal - self.toward_next_share),
                "cesa_since": iso(self.cesa_since), "associate_by": iso(self.associate_by),
                "days_left": self.days_left, "deadline_passed": self.deadline_passed}


def associate_deadline(statuses: Sequence[tuple[date, str]]) -> tuple[date, date] | None:
    """(CESA start, date by which to become an associate), or None if never salarié.

    Three years from the CESA, shortened by the CAPE before it: a member's
    statuses run without a gap from their joining, and are only `cape` or
    `salarie`, so everything before the first CESA is CAPE and the deadline
    is three years from the first contract of either kind (counted in
    calendar years, not in days, so a leap year moves nothing).
    """
    ordered = sorted(statuses, key=lambda s: s[0])
    starts = [since for since, status in ordered if status == "salarie"]
    if not starts:
        return None
    return starts[0], add_years(ordered[0][0], YEARS_TO_ASSOCIATE)


def member_view(member: MemberFacts, statuses: Sequence[tuple[date, str]], capital: Decimal,
                on: date, share_nominal: Decimal = Decimal("25.00")) -> MemberView:
    """`status` on `on`: `cape`, `salarie`, `left` or None (not yet joined)."""
    left = member.left_on is not None and member.left_on < on
    status = "left" if left else status_on(statuses, on)
    associate = not left and member.associate_on is not None and member.associate_on <= on
    cesa, by, days = None, None, None
    deadline = associate_deadline(statuses)
    if deadline is not None:
        cesa = deadline[0]
        if not left and not associate and status == "salarie":
            by = deadline[1]
            days = (by - on).days
    return MemberView(member.member_id, member.name, status, associate, member.joined_on,
                      member.associate_on, member.left_on, capital, cesa, by, days, share_nominal)


def members_view(members: Iterable[MemberFacts], statuses: Mapping[str, Sequence[tuple[date, str]]],
                 capital: Mapping[str, Decimal], on: date,
                 share_nominal: Decimal = Decimal("25.00")) -> list[MemberView]:
    return [member_view(m, statuses.get(m.member_id, ()), capital.get(m.member_id, ZERO), on, share_nominal)
            for m in sorted(members, key=lambda m: m.member_id)]
