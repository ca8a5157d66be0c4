"""`cae assembly A --send-convocations [--letters FILE.csv]`: convene the electorate (DOMAIN.md G1).

Emails go to the associates who consented, through `CAE_SMTP_URL`; the others are listed for a
letter. Each convocation is recorded as a `convocation.sent` through the pipeline, every 100
messages (so a crash mid-way resends at most those not yet recorded), and an associate already
convened is never convened again.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from cli.common import UserError, rules_from, today
from engine.spreadsheet import csv_cells
from governance.config import load_governance
from governance.convoke import body, recipients, sent_event, subject
from governance.store import load_assembly, load_contacts, load_convocations, load_members
from streams import smtp
from streams.pipeline import Raw, process

_BATCH = 100


@dataclass(frozen=True, slots=True)
class Sent:
    emails: int
    letters: int

    def to_json(self) -> dict[str, Any]:
        return {"emailed": self.emails, "letters": self.letters}


def send_convocations(engine: Engine, assembly_id: str, config_path: str | None, letters: Path | None,
                      base_url: str) -> Sent:
    config = load_governance(config_path)
    with engine.connect() as conn:
        recorded = load_assembly(conn, assembly_id)
        members = load_members(conn)
        who = recipients(recorded.assembly, members, load_contacts(conn), load_convocations(conn, assembly_id))
    a = recorded.assembly
    rules = config.at(a.held_on)
    deadline = (a.vote_deadline or rules.default_vote_deadline(a.held_on)).astimezone(
        rules.default_vote_deadline(a.held_on).tzinfo)
    page = f"{base_url.rstrip('/')}/assemblies/{assembly_id}"
    on, at = today(config_path), datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    pipeline_rules = rules_from(config_path)

    def record(events: list[dict[str, Any]]) -> None:
        done = process(engine, [Raw(json.dumps(e).encode(), f"convocations:{assembly_id}:{e['member_id']}")
                                for e in events], pipeline_rules)
        if done.dead_letters:
            raise UserError(f"convocation not recorded: {done.dead_letters[0].reason}")

    emailed = 0
    if who.by_email:
        server = smtp.server_from_url()
        pending: list[dict[str, Any]] = []
        with smtp.connection(server) as conn_smtp:
            for member, address in who.by_email:
                conn_smtp.send_message(smtp.message(address, subject(a), body(
                    a, recorded.resolutions, member, deadline, page)))
                pending.append(sent_event(assembly_id, member.member_id, "email", on, at))
                emailed += 1
                if len(pending) >= _BATCH:
                    record(pending)
                    pending = []
            if pending:
                record(pending)
    if letters is not None and who.by_letter:
        with letters.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["member_id", "name", "assembly_id", "held_on"])
            for m in who.by_letter:
                writer.writerow(csv_cells([m.member_id, m.name, assembly_id, a.held_on.isoformat()]))
        record([sent_event(assembly_id, m.member_id, "letter", on, at) for m in who.by_letter])
    return Sent(emailed, len(who.by_letter) if letters is not None else 0)
