"""A member's IBAN set from the web (issue 16, point 4; DOMAIN.md rule 13): the staff's page, the member's
own account page and `PUT|POST /api/members/{id}/bank-account` all go through `set_iban`.

Access first, in the data layer (`web.data.bank_accounts`: the staff for anyone, a member for
themself, another member's id "not found"); then a `member.bank_account_set` event, validated at the
door (schwifty: country, length, check digits; refused with the reason, which the pages say in
French), taken by `web.intake` like every event of the web, and audited with who set it.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timezone

from engine.events import EventError, decode
from streams.pipeline import Raw
from web import accounts, data, intake
from web.access import Caller
from web.routing import Site


def set_iban(here: Site, caller: Caller, member_id: str, iban: str, bic: str | None,
             on: date | None = None) -> intake.LineOutcome:
    """The member's IBAN from `on` (today by default); `EventError` (with its message) when refused at the
    door, `Hidden`/`Forbidden` when the caller may not set it."""
    with here.reading() as conn:
        data.bank_accounts(conn, caller, member_id)  # the caller's to set, and a member that exists
    event = {"event_id": f"web-iban-{uuid.uuid4().hex}", "type": "member.bank_account_set",
             "occurred_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "member_id": member_id,
             "iban": iban.strip(), "from": (on or here.today()).isoformat()}
    if bic and bic.strip():
        event["bic"] = bic.strip()
    raw = json.dumps(event, ensure_ascii=False).encode()
    decode(raw, here.today())  # refused here, with its reason, before anything is recorded
    (taken,) = intake.take(here, [Raw(raw, f"web:{caller.email}")])
    with here.engine.begin() as conn:
        accounts.audit(conn, caller.label, "member.bank_account_set", f"{member_id}: {taken.outcome}")
    if taken.outcome == intake.DEAD_LETTER:
        raise EventError("rule.untranslated", text=taken.reason or "")
    return taken
