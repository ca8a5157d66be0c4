"""Sending an assembly's convocation (DOMAIN.md G1; issue 17, point 1): one piece of code for
`cae assembly A --send-convocations` and the board's button.

Emails go, through `CAE_SMTP_URL`, to the associates who consented in writing; the others are
convened by letter (the caller lists them: a CSV file, a download, a printable page). Each
convocation is recorded as a `convocation.sent` by the caller's `record` (the CLI's `process`,
the web's intake, which may publish to Kafka), every 100 messages and at the end, so a failure
mid-way resends at most the messages not yet recorded; an associate already convened is never
convened again (`governance.convoke.recipients`).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, TextIO

from sqlalchemy import Connection, Engine

from engine.messages import Refused
from engine.spreadsheet import csv_cells
from governance.config import GovernanceConfig
from governance.convocation import ConvocationTiming
from governance.convoke import Recipients, body, recipients, sent_event, subject
from governance.records import Assembly, MemberFacts
from governance.store import AssemblyEvents, load_assembly, load_contacts, load_convocations, load_members
from streams import smtp

BATCH = 100
Record = Callable[[list[dict[str, Any]]], None]
LETTER_COLUMNS = ["member_id", "name", "assembly_id", "held_on"]


@dataclass(frozen=True, slots=True)
class Sent:
    emails: int
    letters: int

    def to_json(self) -> dict[str, Any]:
        return {"emailed": self.emails, "letters": self.letters}


@dataclass(frozen=True, slots=True)
class Convening:
    """Who is still to be convened, and what the convocation says to them."""

    recorded: AssemblyEvents
    who: Recipients
    deadline: datetime
    page: str

    def text(self, member: MemberFacts) -> str:
        return body(self.recorded.assembly, self.recorded.resolutions, member, self.deadline, self.page)


def convening(conn: Connection, assembly_id: str, config: GovernanceConfig, base_url: str) -> Convening:
    recorded = load_assembly(conn, assembly_id)
    a = recorded.assembly
    who = recipients(a, load_members(conn), load_contacts(conn), load_convocations(conn, assembly_id))
    rules = config.at(a.held_on)
    zone = rules.default_vote_deadline(a.held_on).tzinfo
    deadline = (a.vote_deadline or rules.default_vote_deadline(a.held_on)).astimezone(zone)
    return Convening(recorded, who, deadline, f"{base_url.rstrip('/')}/assemblies/{assembly_id}")


def in_time(assembly: Assembly, on: date, config: GovernanceConfig) -> None:
    """A convocation sent `on` this day must leave the days G1 requires before the assembly; the
    board's button refuses to send it later (the CLI sends, and the tally flags it, G1)."""
    timing = ConvocationTiming(on, (assembly.held_on - on).days,
                               config.at(assembly.held_on).days_required(assembly.convocation))
    if not timing.regular:
        raise Refused("convocation.too_late", day=assembly.held_on, days=timing.days_required,
                      left=max(timing.days_before or 0, 0))


def send(engine: Engine, assembly_id: str, config: GovernanceConfig, on: date, base_url: str, record: Record,
         letters: Callable[[Convening], None] | None) -> Sent:
    """Email the associates who consented and record each sending; with `letters`, hand the others
    to it (to be written out) and record them as convened by letter."""
    with engine.connect() as conn:
        found = convening(conn, assembly_id, config, base_url)
    at = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    emailed = 0
    if found.who.by_email:
        pending: list[dict[str, Any]] = []
        try:
            with smtp.connection(smtp.server_from_url()) as server:
                for member, address in found.who.by_email:
                    server.send_message(smtp.message(address, subject(found.recorded.assembly), found.text(member)))
                    pending.append(sent_event(assembly_id, member.member_id, "email", on, at))
                    emailed += 1
                    if len(pending) >= BATCH:
                        record(pending)
                        pending = []
        finally:  # what was sent is recorded, even when the server stops answering mid-way
            if pending:
                record(pending)
    if letters is not None and found.who.by_letter:
        letters(found)
        record([sent_event(assembly_id, m.member_id, "letter", on, at) for m in found.who.by_letter])
    return Sent(emailed, len(found.who.by_letter) if letters is not None else 0)


def by_letter(conn: Connection, assembly_id: str) -> list[MemberFacts]:
    """The associates convened by letter (recorded), then those still to be (no consent to email):
    the board's letter list, by member id."""
    members = load_members(conn)
    a = load_assembly(conn, assembly_id).assembly
    sent = load_convocations(conn, assembly_id)
    recorded = {c.member_id for c in sent if c.channel == "letter"}
    pending = {m.member_id for m in recipients(a, members, load_contacts(conn), sent).by_letter}
    return [members[m] for m in sorted(recorded | pending) if m in members]


def write_letters(out: TextIO, assembly: Assembly, members: Iterable[MemberFacts]) -> None:
    """The letter list as CSV (spreadsheet-safe cells): the CLI's `--letters` file, the board's download."""
    writer = csv.writer(out)
    writer.writerow(LETTER_COLUMNS)
    for m in members:
        writer.writerow(csv_cells([m.member_id, m.name, assembly.assembly_id, assembly.held_on.isoformat()]))
