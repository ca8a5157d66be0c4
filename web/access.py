"""Who may see what: the one rule every page and endpoint goes through (issue 10).

- a **member** account is bound to one member id: it sees that member's own
  figures, and the assemblies that member was convened to; another member's id
  anywhere is "not found" (404), never "forbidden": a member learns nothing of
  other members, not even that they exist;
- the **board** (governance bodies) sees assemblies, resolutions, attendance,
  proxies, votes and tallies, the register of associates, and no member's
  accounts (403);
- the **staff** sees and does everything with the books;
- an **admin** is staff, and manages the accounts.

Routes declare the roles they serve (`Rule`, registered with the route so that
a test can go through every route of the table); the data layer asks
`member_scope` before it reads any member's figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    BOARD = "board"
    MEMBER = "member"


BOOKS = frozenset({Role.ADMIN, Role.STAFF})  # who sees every member's figures
GOVERNANCE = BOOKS | {Role.BOARD}
EVERYONE = frozenset(Role)


@dataclass(frozen=True, slots=True)
class Caller:
    """The account making a request."""

    user_id: int
    email: str
    role: Role
    member_id: str | None = None

    @property
    def label(self) -> str:
        """How the books record who did something through the web."""
        return f"{self.email} (web)"


class Hidden(LookupError):
    """Not found, or not the caller's: the same answer (404) for both."""


class Forbidden(PermissionError):
    """The caller's role may not use this page or endpoint (403)."""


def require(caller: Caller, roles: frozenset[Role]) -> None:
    if caller.role not in roles:
        raise Forbidden(f"this is not open to the role {caller.role}")


def member_scope(caller: Caller, member_id: str) -> str:
    """The member whose figures the caller may read, or Hidden/Forbidden: called before every such read."""
    if caller.role in BOOKS:
        return member_id
    if caller.role is Role.MEMBER:
        if caller.member_id != member_id:
            raise Hidden(f"no member {member_id}")
        return member_id
    raise Forbidden("the board sees the governance, not members' accounts")


@dataclass(frozen=True, slots=True)
class Rule:
    """What a route serves: its roles (None: anyone, signed in or not), and which of its path
    parameters names a member (where another member's id is "not found")."""

    roles: frozenset[Role] | None
    member_param: str | None = None
