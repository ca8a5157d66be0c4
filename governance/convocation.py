"""Whether an assembly was convened in time (DOMAIN.md G1; Code de commerce R225-69, R223-20).

The days are counted from the sending of the convocation to the day of the assembly (Cass. ch.
mixte, 16 December 2005): the assembly's `convened_on`, or the latest `convocation.sent` when
one was sent later (an associate convened late makes the convocation late for the assembly).
Without either, whether it was regular is not known (`regular` is None), and shown as such.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from governance.config import GovernanceRules
from governance.records import Assembly, Convocation


@dataclass(frozen=True, slots=True)
class ConvocationTiming:
    convened_on: date | None
    days_before: int | None
    days_required: int

    @property
    def regular(self) -> bool | None:
        return None if self.days_before is None else self.days_before >= self.days_required

    def to_json(self) -> dict[str, Any]:
        return {"convened_on": self.convened_on.isoformat() if self.convened_on else None,
                "days_before": self.days_before, "days_required": self.days_required, "regular": self.regular}


def timing(assembly: Assembly, convocations: Iterable[Convocation], rules: GovernanceRules) -> ConvocationTiming:
    sent = [c.sent_on for c in convocations if c.assembly_id == assembly.assembly_id]
    days = [d for d in (assembly.convened_on, max(sent, default=None)) if d is not None]
    last = max(days, default=None)
    return ConvocationTiming(last, None if last is None else (assembly.held_on - last).days,
                             rules.days_required(assembly.convocation))
