"""A member id the ledger does not know, refused with the known ids closest to it."""

from __future__ import annotations

from sqlalchemy import Connection, select

from engine.messages import Refused
from engine.suggest import unknown
from ledger import schema


class UnknownMember(Refused, LookupError):
    pass


class NotYetJoined(UnknownMember):
    """A month before the member joined: their statement would be zeros that mean nothing (issue 15)."""


def unknown_member(conn: Connection, member_id: str) -> UnknownMember:
    """The error to raise, naming the members whose ids are closest (`did you mean "M001"?`)."""
    return UnknownMember(unknown("member", member_id, conn.scalars(select(schema.members.c.member_id))))
