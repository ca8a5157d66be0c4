"""The members' email beyond assemblies (issue 17, point 6): the monthly "your statement is ready"
notice, and the log of what was sent to whom. One piece of code for `cae mail statements|log` and
the staff's mail page (`web.pages_mail`).

After the payroll, each member who consented (`member.contact_set` with `statements_by_email`) and
has a payslip for the month is told their statement is ready: no figure in the email (an email is
not a safe place for pay), a link to their statement's page. Each sending is recorded in
`mail_log` right after it is sent, once per member and month, so sending again sends nobody twice.
The log shows these, and the convocations sent by email.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from engine.french import month_label
from governance.store import load_contacts, load_convocations, load_meetings
from ledger import schema
from streams import smtp

_log, _slips = schema.mail_log, schema.payslips


def statement_text(name: str, month: str, link: str) -> tuple[str, str]:
    """The email's subject and text, in French: that the statement is ready, where; no figure."""
    label = month_label(month)
    return (f"Votre état des comptes de {label} est prêt",
            f"Bonjour {name},\n\nLa paie de {label} est faite : votre état des comptes et votre bulletin "
            f"sont prêts. Vous les trouverez sur votre espace, après connexion :\n{link}\n\n"
            "Ce message ne contient aucun montant.\n\nL'équipe de la coopérative\n")


def send_statements(engine: Engine, month: str, base_url: str) -> int:
    with engine.connect() as conn:
        contacts = load_contacts(conn)
        paid: dict[str, str] = {row.member_id: row.name for row in conn.execute(
            select(_slips.c.member_id, schema.members.c.name)
            .join(schema.members, schema.members.c.member_id == _slips.c.member_id).where(_slips.c.month == month))}
        done = set(conn.scalars(select(_log.c.member_id).where(_log.c.kind == "statement", _log.c.about == month)))
    wanted = [(m, contacts[m].email) for m in sorted(paid)
              if m in contacts and contacts[m].statements_by_email and m not in done]
    if not wanted:
        return 0
    sent = 0
    with smtp.connection(smtp.server_from_url()) as server:
        for member_id, address in wanted:
            subject, text = statement_text(paid[member_id], month,
                                           f"{base_url.rstrip('/')}/members/{member_id}/statement?month={month}")
            server.send_message(smtp.message(address, subject, text))
            with engine.begin() as conn:
                _record(conn, month, member_id, address)
            sent += 1
    return sent


def _record(conn: Connection, month: str, member_id: str, address: str) -> None:
    try:
        conn.execute(_log.insert().values(kind="statement", about=month, member_id=member_id, address=address,
                                          sent_at=datetime.now(timezone.utc)))
    except IntegrityError:  # another sending recorded it meanwhile: once is what the log says
        pass


@dataclass(frozen=True, slots=True)
class Sent:
    kind: str
    about: str
    member_id: str
    address: str | None
    sent: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "about": self.about, "member_id": self.member_id, "address": self.address,
                "sent": self.sent}


def mail_log(conn: Connection) -> list[Sent]:
    """Every email sent to members: statements (with the address used) and convocations by email."""
    found = [Sent(r.kind, r.about, r.member_id, r.address, r.sent_at.isoformat())
             for r in conn.execute(select(_log).order_by(_log.c.id))]
    contacts = load_contacts(conn)
    assemblies, _ = load_meetings(conn)
    for a in assemblies:
        found += [Sent("convocation", c.assembly_id, c.member_id,
                       contacts[c.member_id].email if c.member_id in contacts else None, c.sent_on.isoformat())
                  for c in load_convocations(conn, a.assembly_id) if c.channel == "email"]
    return found
