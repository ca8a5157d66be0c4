"""Events entered on the web (the staff's and the board's forms, `POST /api/events`), taken in one place.

Processed here by the same `process` as `cae ingest`, or, when the deployment runs its workers on
Kafka (`cae serve --publish-to-kafka`), sent to their topics like `cae publish` sends a file's, so
that one stream keeps the order of everything. A line that cannot be sent (not JSON, no member to
key it by) is not dropped: it goes to the dead letters here, with its reason, as a worker would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from engine.events import claimed_event_id
from engine.messages import Language, Message
from ledger import deadletters
from ledger.deadletters import DeadLetter
from ledger.storable import storable_id
from streams.pipeline import Raw, process
from web import accounts
from web.access import Caller
from web.routing import Site

PROCESSED, DUPLICATE, DEAD_LETTER, PUBLISHED = "processed", "duplicate", "dead_letter", "published"


@dataclass(frozen=True, slots=True)
class LineOutcome:
    """What became of one line: `outcome` is processed, duplicate, dead_letter, or published (to Kafka)."""

    line: int
    event_id: str | None
    outcome: str
    reason: Message | str | None = None  # a catalogue message, or the words of a refusal that has none

    def reason_in(self, language: Language) -> str | None:
        reason = self.reason
        return reason.text(language) if isinstance(reason, Message) else reason

    def as_json(self) -> dict[str, object]:
        """The reason in English, and its catalogue code when it has one (issue 15: the API may add it)."""
        reason = self.reason
        return {"line": self.line, "event_id": self.event_id, "outcome": self.outcome, "reason": self.reason_in("en"),
                **({"code": reason.code} if isinstance(reason, Message) else {})}


def take(here: Site, raws: list[Raw]) -> list[LineOutcome]:
    """Each line's outcome, in order. `KafkaUnavailable` when the deployment's Kafka does not take them."""
    if here.publish is None:
        done = process(here.engine, raws, here.rules)
        refused: dict[str, Message | str] = {d.source: d.message or d.reason for d in done.dead_letters}
        statuses = done.statuses
        default = PROCESSED
    else:
        sent = here.publish(raws)
        refused = dict(sent.bad)
        if sent.bad:
            by_source = {r.source: r for r in raws}
            with here.engine.begin() as conn:
                deadletters.record(conn, [DeadLetter.of(by_source[source].data, reason, source,
                                                        claimed_event_id(by_source[source].data))
                                          for source, reason in sent.bad])
        statuses, default = {}, PUBLISHED
    # The id a line claims, as its dead letter keeps it: a lone surrogate cannot even be sent as JSON.
    return [LineOutcome(n, storable_id(claimed_event_id(r.data)),
                        DEAD_LETTER if r.source in refused else statuses.get(r.source, default),
                        refused.get(r.source))
            for n, r in enumerate(raws, start=1)]


def take_audited(here: Site, caller: Caller, raw: bytes, action: str) -> LineOutcome:
    """One event a person entered on a page, taken, then audited under `action` with its text."""
    taken = take(here, [Raw(raw, f"web:{caller.email}")])[0]
    with here.engine.begin() as conn:
        accounts.audit(conn, caller.label, action, raw.decode())
    return taken


def take_one(here: Site, caller: Caller, event: dict[str, Any], action: str) -> str | None:
    """One event of a board's or staff's form, taken and audited under `action`: why it was
    refused (the pipeline's reason, in French for the page), or None when it passed."""
    return take_audited(here, caller, json.dumps(event, ensure_ascii=False).encode(), action).reason_in("fr")
