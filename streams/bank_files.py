"""A bank file as the events it brings, checked whole before any is taken (DOMAIN.md rule 10, CONTRACT.md §5).

`cae bank import` and the staff's upload page (`web.pages_bank`) both read
through here, so that a file is refused for the same reasons in both, and
nothing of a refused file is recorded: each statement becomes one
`bank.statement_received` event with a stable id (the same file again is a
duplicate), each event is validated at the door, then taken by the ledger's
own code without recording anything (`ledger.treasury.check_bank_events`).
The staff's assignments go through `assignment` and the same check.
Every refusal is a `Refused` carrying its catalogue message: the CLI prints
its English, the page its French.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine

from engine.bank import Statement, event_body
from engine.config import Rules
from engine.events import BankLineAssigned, BankStatementReceived, EventError, decode
from engine.messages import Message
from ledger import treasury
from streams.pipeline import Raw


def statement_events(statements: Sequence[Statement], name: str) -> list[Raw]:
    """One event per statement, its id and time from its content: the same file again is a duplicate."""
    raws = []
    for n, statement in enumerate(statements):
        body = event_body(statement)
        event = {"event_id": treasury.event_id_of(body), "occurred_at": f"{body['to']}T23:59:59Z", **body}
        raws.append(Raw(json.dumps(event, ensure_ascii=False).encode(), f"{name}#{n + 1}"))
    return raws


def assignment(body: dict[str, Any], source: str) -> Raw:
    """A `bank.line_assigned` event of the staff (`body`: its fields, `assigned_by` among them), with a new id."""
    event = {"event_id": f"bank-assign-{uuid.uuid4().hex}", "occurred_at": datetime.now(timezone.utc).isoformat(),
             "type": "bank.line_assigned", **body}
    return Raw(json.dumps(event, ensure_ascii=False).encode(), source)


class RefusedAtTheDoor(EventError):
    """An event of the file the validators refuse, with the source it came from (`name#n`)."""

    def __init__(self, source: str, message: Message) -> None:
        super().__init__(message)
        self.source = source


def check(engine: Engine, rules: Rules, raws: Sequence[Raw]) -> None:
    """Each event valid at the door and taken by the ledger, in order; else the `Refused` saying why.

    `RefusedAtTheDoor` for an event the validators refuse, `RuleError` for one the
    ledger would: both carry their message of the catalogue (`engine.messages`).
    """
    events = []
    for raw in raws:
        try:
            events.append(decode(raw.data, datetime.now(timezone.utc).date()))
        except EventError as exc:
            raise RefusedAtTheDoor(raw.source, exc.message) from None
    treasury.check_bank_events(engine, rules, [e for e in events
                                               if isinstance(e, (BankStatementReceived, BankLineAssigned))])
