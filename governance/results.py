"""Tallies and assembly records from the database: load the record, then call the pure functions.

Nothing is cached or stored: each call recomputes from `governance_events`
and the members, so a tally printed today and next year are the same as
long as the record is (DOMAIN.md: "a tally is a pure function of the
recorded events"). The rules are those in force on the assembly's date.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection

from governance.config import GovernanceConfig
from governance import secret
from governance.records import Resolution
from governance.sheet import AssemblyRecord, SecretRecord, assembly_record
from governance.sitting import sit
from governance.store import (UnknownAssembly, correspondence_voters, load_assembly, load_bureau,
                              load_convocations, load_electorate, load_members, load_resolution,
                              load_votes)
from governance.tally import Tally, tally


def tally_resolution(conn: Connection, resolution_id: str, config: GovernanceConfig) -> Tally:
    """`cae tally RESOLUTION`: LookupError when the resolution or its assembly is unknown."""
    resolution = load_resolution(conn, resolution_id)
    try:
        recorded = load_assembly(conn, resolution.assembly_id)
    except UnknownAssembly:
        raise UnknownAssembly("resolution.assembly_unknown", resolution=resolution_id,
                              assembly=resolution.assembly_id) from None
    rules = config.at(recorded.assembly.held_on)
    # Who voted by correspondence on any resolution of the assembly counts in its quorum (G2): their
    # votes on the others are read, the rest of the others' votes is not.
    votes = load_votes(conn, [resolution_id])
    # The electorate's ids; the facts only of the voters outside it, whose refusal says why.
    voters = load_electorate(conn, recorded.assembly.held_on)
    members = load_members(conn, {v.member_id for v in votes} - voters)
    deadline = recorded.assembly.vote_deadline or rules.default_vote_deadline(recorded.assembly.held_on)
    kept = secret_record(conn, recorded.resolutions)
    # Only the associates not already known to have voted by correspondence in time are looked up.
    known = kept.postal | {v.member_id for v in votes if v.by_correspondence and v.cast_at <= deadline}
    others = correspondence_voters(conn, [r.resolution_id for r in recorded.resolutions
                                          if r.resolution_id != resolution_id],
                                   among=voters - known)
    sitting = sit(recorded.assembly, members, recorded.attendance, recorded.proxies, rules, votes,
                  load_convocations(conn, recorded.assembly.assembly_id),
                  kept.postal | {m for m, at in others if datetime.fromisoformat(at) <= deadline}, voters)
    return tally(sitting, resolution, votes, members, rules, kept.counts.get(resolution_id))


def record_of_assembly(conn: Connection, assembly_id: str, config: GovernanceConfig) -> AssemblyRecord:
    """`cae assembly AG_ID`: the sheet and every resolution's tally."""
    recorded = load_assembly(conn, assembly_id)
    votes = load_votes(conn, [r.resolution_id for r in recorded.resolutions])
    return assembly_record(recorded.assembly, recorded.resolutions, load_members(conn),
                           recorded.attendance, recorded.proxies, votes,
                           config.at(recorded.assembly.held_on), load_convocations(conn, assembly_id),
                           secret_record(conn, recorded.resolutions), load_bureau(conn, assembly_id))


def secret_record(conn: Connection, resolutions: Iterable[Resolution]) -> SecretRecord:
    """Who took part in the assembly's secret votes, and their counts (G4)."""
    ids = [r.resolution_id for r in resolutions if r.secret]
    return SecretRecord(tuple(secret.participation(conn, ids)), secret.counts(conn, ids))
