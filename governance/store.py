"""Reading the governance record: `governance_events` and the members, as domain records.

The pipeline stores each governance event as its validated JSON, append-only
(`ledger.invariants`), in stream order (`seq`); nothing about governance is
kept beside it, so every tally, sheet and statistic is recomputed from the
record. To find an assembly's or a resolution's events without reading the
whole record, the database indexes the ids inside the JSON (expression
indexes declared in `ledger.schema`, created by migration 0002): the queries
below are written with the same `JsonField` construct, which is how each
database's planner recognises them.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Select,
    Text,
    cast,
    column,
    func,
    select,
    true,
)

from engine import chart
from engine.events import AnyEvent
from engine.money import from_cents
from engine.messages import Refused
from engine.suggest import unknown
from governance.gate import Gate, named_ids
from governance.records import (
    FIELDS,
    POSITIONAL,
    Assembly,
    Attendance,
    Contact,
    Convocation,
    GovernanceRecord,
    MemberFacts,
    Minutes,
    Officer,
    Proxy,
    Resolution,
    Ritual,
    Vote,
    Voting,
    from_fields,
)
from ledger import schema
from ledger.rows import bulk, day, maybe_day, raw_dates

_CHUNK = 500
_ge = schema.governance_events


def _key(key: str) -> ColumnElement[Any]:
    """A field of the stored JSON, written as the indexes are (`ledger.schema.JsonField`)."""
    return schema.JsonField(_ge.c.payload, key)


def _select_fields(conn: Connection, kind: str) -> Select[Any]:
    """`seq` and the `FIELDS` of an event type, read out of the JSON in the database.

    SQLite keeps the last JSON it parsed, so one `json_extract` per field is
    cheap there; PostgreSQL would parse the document once per field, so it
    gets `json_to_record`, one parse per row (four times less work for a vote).
    """
    fields = FIELDS[kind]
    if conn.dialect.name != "postgresql":
        return select(_ge.c.seq, *(_ge.c.event_id if f == "event_id" else _key(f) for f in fields))
    in_json = [f for f in fields if f != "event_id"]
    record = (func.json_to_record(cast(_ge.c.payload, JSON))
              .table_valued(*(column(f, Text) for f in in_json))
              .render_derived(name="r", with_types=True))
    return (select(_ge.c.seq, *(_ge.c.event_id if f == "event_id" else record.c[f] for f in fields))
            .select_from(_ge.join(record, true())))


def _records(conn: Connection, kind: str, key: str | None = None,
             values: Iterable[str] | None = None) -> list[GovernanceRecord]:
    """The stored events of one type (whose `key` is one of `values`), in stream order.

    The fields are read out of the JSON by the database, and the rows fetched
    at once: for an assembly of thousands this is most of a tally's time.
    """
    query = _select_fields(conn, kind).where(_ge.c.type == kind).order_by(_ge.c.seq)
    with bulk():
        if key is None or values is None:
            rows = conn.execute(query).all()
        else:
            wanted = sorted(set(values))
            rows = []
            for i in range(0, len(wanted), _CHUNK):
                rows += conn.execute(query.where(_key(key).in_(wanted[i:i + _CHUNK]))).all()
            if len(wanted) > _CHUNK:
                rows.sort(key=lambda row: row[0])
        positional = POSITIONAL.get(kind)
        if positional is not None:
            return [positional(*row) for row in rows]
        return [from_fields(kind, row[0], row[1:]) for row in rows]


def _typed(records: list[GovernanceRecord], cls: type[Any]) -> list[Any]:
    return [r for r in records if isinstance(r, cls)]


def load_gate(conn: Connection, events: list[AnyEvent], joining: Container[str]) -> Gate:
    """A `Gate` knowing what a batch of governance events names (pipeline hook)."""
    members, meetings, resolutions = named_ids(events)
    gate = Gate(joining=joining)  # the caller holds the governance lock (`ledger.locks`)
    m = schema.members
    wanted = sorted(members)
    for i in range(0, len(wanted), _CHUNK):
        gate.members.update(conn.scalars(select(m.c.member_id)
                                         .where(m.c.member_id.in_(wanted[i:i + _CHUNK]))))
    if meetings:
        gate.assemblies.update(a.assembly_id for a in
                               _typed(_records(conn, "assembly.convened", "assembly_id", meetings),
                                      Assembly))
        gate.rituals.update(r.meeting_id for r in
                            _typed(_records(conn, "ritual.held", "meeting_id", meetings), Ritual))
    if resolutions:
        found = _typed(_records(conn, "resolution.proposed", "resolution_id", resolutions), Resolution)
        gate.resolutions.update((r.resolution_id, r.assembly_id) for r in found)
        gate.secret.update(r.resolution_id for r in found if r.secret)
    return gate


class UnknownAssembly(Refused, LookupError):
    pass


class UnknownResolution(Refused, LookupError):
    pass


@dataclass(frozen=True, slots=True)
class AssemblyEvents:
    """An assembly and what was recorded of it (its votes come per resolution)."""

    assembly: Assembly
    resolutions: tuple[Resolution, ...]
    attendance: tuple[Attendance, ...]
    proxies: tuple[Proxy, ...]


def load_assembly(conn: Connection, assembly_id: str) -> AssemblyEvents:
    found = _typed(_records(conn, "assembly.convened", "assembly_id", [assembly_id]), Assembly)
    if not found:
        known = (a.assembly_id for a in _typed(_records(conn, "assembly.convened"), Assembly))
        raise UnknownAssembly(unknown("assembly", assembly_id, known))
    return AssemblyEvents(
        found[0],
        tuple(_typed(_records(conn, "resolution.proposed", "assembly_id", [assembly_id]), Resolution)),
        tuple(_typed(_records(conn, "attendance.recorded", "meeting_id", [assembly_id]), Attendance)),
        tuple(_typed(_records(conn, "proxy.given", "assembly_id", [assembly_id]), Proxy)))


def load_resolution(conn: Connection, resolution_id: str) -> Resolution:
    found = _typed(_records(conn, "resolution.proposed", "resolution_id", [resolution_id]), Resolution)
    if not found:
        known = (r.resolution_id for r in all_resolutions(conn))
        raise UnknownResolution(unknown("resolution", resolution_id, known))
    return found[0]


def all_resolutions(conn: Connection) -> list[Resolution]:
    """Every resolution proposed, in the order they were recorded."""
    return _typed(_records(conn, "resolution.proposed"), Resolution)


def load_votes(conn: Connection, resolution_ids: Iterable[str]) -> list[Vote]:
    return _typed(_records(conn, "vote.cast", "resolution_id", resolution_ids), Vote)


def correspondence_voters(conn: Connection, resolution_ids: Iterable[str],
                          among: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(member, time cast) of the votes by correspondence on these resolutions, each pair once: who
    may count in the quorum (G2) without reading every vote of the assembly (a form's votes share
    their time, so this is about one row per form). With `among`, of these members only: a tally
    asks only about the associates it does not already know voted by correspondence, each found
    through the index on (type, mode, member) (revision 0014) rather than by reading every
    correspondence vote of the other resolutions (issue 17, point 5)."""
    wanted = sorted(set(resolution_ids))
    if not wanted:
        return []
    query = (select(_key("member_id"), _key("occurred_at")).distinct()
             .where(_ge.c.type == "vote.cast", _key("mode") == "correspondence"))
    found: set[tuple[str, str]] = set()
    if among is None:
        for i in range(0, len(wanted), _CHUNK):
            found.update(conn.execute(query.where(_key("resolution_id").in_(wanted[i:i + _CHUNK]))).tuples())
        return sorted(found)
    members = sorted(set(among))
    for i in range(0, len(members), _CHUNK):
        found.update(conn.execute(query.where(_key("member_id").in_(members[i:i + _CHUNK]),
                                              _key("resolution_id").in_(wanted))).tuples())
    return sorted(found)


def load_meetings(conn: Connection) -> tuple[list[Assembly], list[Ritual]]:
    return (_typed(_records(conn, "assembly.convened"), Assembly),
            _typed(_records(conn, "ritual.held"), Ritual))


def load_attendance(conn: Connection) -> list[Attendance]:
    return _typed(_records(conn, "attendance.recorded"), Attendance)


def load_members(conn: Connection, member_ids: Iterable[str] | None = None) -> dict[str, MemberFacts]:
    """Every member's facts, or those of `member_ids` (one member's page, a tally's voters outside
    the electorate)."""
    m = schema.members
    raw = raw_dates(m.c.joined_on, m.c.associate_on, m.c.left_on)
    query = select(m.c.member_id, m.c.name, *raw).order_by(m.c.member_id)
    with bulk():
        if member_ids is None:
            rows = conn.execute(query).all()
        else:
            wanted = sorted(set(member_ids))
            rows = []
            for i in range(0, len(wanted), _CHUNK):
                rows += conn.execute(query.where(m.c.member_id.in_(wanted[i:i + _CHUNK]))).all()
        return {mid: MemberFacts(mid, name, day(joined), maybe_day(associate), maybe_day(left))
                for mid, name, joined, associate, left in rows}


def load_electorate(conn: Connection, held_on: date) -> frozenset[str]:
    """The associates of an assembly held on `held_on` (`MemberFacts.associate_at`, DOMAIN.md
    Electorate), chosen by the database: a tally needs their ids, not ten thousand members' facts
    (issue 17, point 5)."""
    m = schema.members
    return frozenset(conn.scalars(select(m.c.member_id).where(
        m.c.associate_on <= held_on, m.c.left_on.is_(None) | (m.c.left_on >= held_on))))


def load_statuses(conn: Connection, member_ids: Sequence[str] | None = None) -> dict[str, list[tuple[Any, str]]]:
    """Each member's status history (`cape` / `salarie`), in the order it was recorded; every
    member's, or those of `member_ids` (a few: one member's page)."""
    s = schema.member_statuses
    found: dict[str, list[tuple[Any, str]]] = {}
    query = select(s.c.member_id, s.c.since, s.c.status).order_by(s.c.id)
    if member_ids is not None:
        query = query.where(s.c.member_id.in_(member_ids))
    for row in conn.execute(query):
        found.setdefault(row.member_id, []).append((row.since, row.status))
    return found


def capital_held(conn: Connection, on: date | None = None,
                 member_ids: Sequence[str] | None = None) -> dict[str, Decimal]:
    """Each member's share capital on `on` (else now): the credit balance of their 1013 lines
    (DOMAIN.md rule 4), across the years (à-nouveaux belong to no member: nothing counts twice).
    Every member's, or those of `member_ids` (a few: one member's page)."""
    lines, entries = schema.lines, schema.entries
    query = (select(lines.c.member_id, func.sum(lines.c.amount))
             .where(lines.c.account == chart.CAPITAL, lines.c.member_id.is_not(None))
             .group_by(lines.c.member_id))
    if member_ids is not None:
        query = query.where(lines.c.member_id.in_(member_ids))
    if on is not None:
        query = query.join(entries, entries.c.id == lines.c.entry_id).where(entries.c.entry_date <= on)
    return {member_id: -from_cents(int(total)) for member_id, total in conn.execute(query)}


# --- Members in their assemblies (issue 17): contacts, convocations, the bureau, the minutes ---

def load_contacts(conn: Connection) -> dict[str, Contact]:
    """Each member's latest `member.contact_set` (a withdrawn consent is a later one)."""
    return {c.member_id: c for c in _typed(_records(conn, "member.contact_set"), Contact)}


def load_convocations(conn: Connection, assembly_id: str) -> list[Convocation]:
    return _typed(_records(conn, "convocation.sent", "assembly_id", [assembly_id]), Convocation)


def load_bureau(conn: Connection, assembly_id: str) -> list[Officer]:
    return _typed(_records(conn, "bureau.appointed", "assembly_id", [assembly_id]), Officer)


def load_minutes(conn: Connection, assembly_id: str) -> Minutes | None:
    """The latest summary of the debates recorded for the assembly, if any."""
    found = _typed(_records(conn, "minutes.recorded", "assembly_id", [assembly_id]), Minutes)
    return found[-1] if found else None


def load_voting(conn: Connection, resolution_ids: Iterable[str]) -> dict[str, str]:
    """Each resolution's vote on the day: "open" or "closed" as the chair last set it (none: not opened)."""
    return {v.resolution_id: v.state for v in _typed(_records(conn, "resolution.voting", "resolution_id",
                                                              resolution_ids), Voting)}
