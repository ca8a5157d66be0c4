"""The minutes (procès-verbal, Code de commerce R225-106) and the attendance sheet (R225-95), in French.

DOMAIN.md G5. The minutes give the date and place, how the assembly was convened, the agenda, the
bureau, how many associates took part (present, remote, represented, by correspondence: one
associate, one vote) and the quorum reached, the documents and reports submitted, the summary of
the debates, each resolution's text and result; the bureau signs them. The attendance sheet,
annexed, lists those present or deemed present (remote), the represented with their proxy holder
and the correspondence voters, with the shares each holds and their vote, certified by the bureau.

Like the record they come from, they are a pure function of the recorded events: printed twice,
they are the same document. What was not recorded (no bureau, no debates) is written as such, not
left out, so a missing item shows on the page the chair is asked to sign.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Connection

from engine.french import day_label
from governance.config import GovernanceConfig
from governance.printable import KIND_TITLES, MODES
from governance.records import MemberFacts, Minutes
from governance.results import record_of_assembly
from governance.sheet import AssemblyRecord
from governance.store import capital_held, load_convocations, load_members, load_minutes

_ENV = Environment(loader=PackageLoader("governance", "templates"),
                   autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
ROLES = {"chair": "Président de séance", "secretary": "Secrétaire", "scrutineer": "Scrutateur"}


@dataclass(frozen=True, slots=True)
class MinutesBook:
    """What the minutes and the sheet are made of, read once from the record."""

    record: AssemblyRecord
    members: Mapping[str, MemberFacts]
    minutes: Minutes | None
    channels: Mapping[str, int]  # convocations sent per channel (email, letter)
    shares: Mapping[str, int]  # whole shares held on the assembly's day

    def name(self, member_id: str | None) -> str:
        found = self.members.get(member_id or "")
        return found.name if found else str(member_id)


def minutes_book(conn: Connection, assembly_id: str, config: GovernanceConfig) -> MinutesBook:
    record = record_of_assembly(conn, assembly_id, config)
    a = record.assembly
    nominal = config.at(a.held_on).share_nominal
    capital = capital_held(conn, a.held_on, sorted(record.sitting.electorate))
    return MinutesBook(record, load_members(conn), load_minutes(conn, assembly_id),
                       Counter(c.channel for c in load_convocations(conn, assembly_id)),
                       {m: int(amount // nominal) for m, amount in capital.items()})


def minutes_html(book: MinutesBook, config: GovernanceConfig) -> str:
    record = book.record
    a = record.assembly
    rules = config.at(a.held_on)
    s = record.sitting
    sheet = [line for line in record.lines if line.attendance in ("present", "remote", "represented",
                                                                  "correspondence")]
    majority = rules.majority(a.kind)
    return _ENV.get_template("minutes.html").render(
        title=f"Procès-verbal de l'{KIND_TITLES.get(a.kind, a.kind).lower()} du {day_label(a.held_on)}",
        kind_title=KIND_TITLES.get(a.kind, a.kind), a=a, record=record, book=book, s=s, roles=ROLES,
        modes=MODES, sheet=sheet, long_date=day_label,
        convocation="première convocation" if a.convocation == 1 else "deuxième convocation",
        majority_words=("plus de " if majority.strict else "au moins ") + str(majority)
        + " des voix exprimées pour ou contre",
        total_shares=sum(book.shares.get(line.member_id, 0) for line in sheet))



def minutes_document(conn: Connection, assembly_id: str, config: GovernanceConfig) -> str:
    """The minutes with the sheet annexed, as HTML: what `cae assembly --minutes` writes and the
    board downloads (both lay the same HTML out as the same PDF)."""
    return minutes_html(minutes_book(conn, assembly_id, config), config)
