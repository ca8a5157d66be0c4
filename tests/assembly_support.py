"""Events of an assembly with members in it (issue 17), fed through the real pipeline.

Shared by the tests of convocations, correspondence votes, proxies from the member, secret
ballots and minutes, so that each builds its assembly the same way and on both backends.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from itertools import count
from typing import Any

from sqlalchemy import Engine

from engine.config import Rules
from engine.schedule import Schedule
from streams.pipeline import Outcome, Raw, process

_ids = count(1)
HELD_ON = "2026-06-20"
DEADLINE = "2026-06-19T15:00:00+02:00"


def cooperative_today() -> date:
    """Today where the cooperative is, as its pages and commands count days (`[schedule] timezone`,
    Europe/Paris by default): the machine's `date.today()` in UTC is still yesterday there from
    23:00 UTC in winter (22:00 in summer), and a test counting days from it was a day off then."""
    return datetime.now(Schedule().zone).date()


def event(type_: str, at: str = "2026-05-01T09:00:00Z", **fields: Any) -> dict[str, Any]:
    return {"event_id": f"x{next(_ids)}", "type": type_, "occurred_at": at, **fields}


def feed(engine: Engine, rules: Rules, *events: dict[str, Any]) -> Outcome:
    return process(engine, [Raw(json.dumps(e).encode(), f"test:{n}") for n, e in enumerate(events)], rules)


def associates(*ids: str, on: str = "2025-01-01") -> list[dict[str, Any]]:
    """Members who joined and became associates on `on`."""
    found: list[dict[str, Any]] = []
    for mid in ids:
        found.append(event("member.joined", member_id=mid, name=f"Associé {mid}", joined_on=on, status="salarie"))
        found.append(event("member.became_associate", member_id=mid, on=on))
    return found


def assembly(assembly_id: str = "AG", *resolutions: str, secret: tuple[str, ...] = (),
             **fields: Any) -> list[dict[str, Any]]:
    """An AGO held on HELD_ON, convened on 2026-06-01, with its resolutions (titles and texts)."""
    found = [event("assembly.convened", assembly_id=assembly_id, kind=fields.pop("kind", "AGO"),
                   held_on=fields.pop("held_on", HELD_ON), convocation=fields.pop("convocation", 1),
                   **{"convened_on": "2026-06-01", "place": "Salle des fêtes, Lyon", "remote": True,
                      "vote_deadline": DEADLINE, **fields})]
    for rid in resolutions:
        found.append(event("resolution.proposed", resolution_id=rid, assembly_id=assembly_id,
                           title=f"Résolution {rid}", text=f"L'assemblée approuve {rid}.\nSecond alinéa.",
                           secret=rid in secret))
    return found
