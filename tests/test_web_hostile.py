"""Issue 14, point 5: nothing a web request sends makes a 500, and what is refused changes nothing.

Generated from the route table, like the access matrix (`tests.web_support.declared_routes`):
every route gets a valid value for each parameter it declares (its path, its query, its form's
fields), then each parameter in turn gets each hostile value below: empty, very long, digits
that are not ASCII, `€`, quotes, `../`, NUL, a line break, a percent-encoded lone surrogate and
bytes that are not UTF-8, negative and huge numbers, a date and a month that do not exist,
an unknown id, markup. The path and query go as every role the route serves; a form, whose
handling does not depend on the role, as the least of them.

What must hold: never a 500 nor a traceback; an API error is an `{"error"}` document and a
page's a page in French; and when the answer is an error, the ledger is as it was: no table
moved but the request's own bookkeeping (sessions, failed logins), except that an event
refused by its validators is kept in the dead letters with who sent it (CONTRACT §1: nothing
is lost), and the run log keeps a job that failed.
"""

from __future__ import annotations

import hashlib
from contextlib import ExitStack
import json
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, unquote

import pytest
from sqlalchemy import Engine, func, select

from ledger import schema
from ledger.changes import ChangeWatch
from ledger.invariants import APPEND_ONLY
from streams.embedded import ingest
from streams.pipeline import Raw
from web import accounts
from web.access import Role
from web.events_form import FORMS, LINES
from web.pages_bank import SPLITS, TARGETS
from web.pages_board import RECORDABLE
from tests.web_support import VALID, Declared, WebLedger, clients, csrf_of, declared_routes, web  # noqa: F401

HOSTILE = {name: quote(value, safe="") for name, value in {
    "empty": "", "very long": "9" * 5000, "superscript two": "²", "Arabic-Indic three": "٣", "euro": "€",
    "double quote": '"', "single quote": "'", "dot dot slash": "../", "NUL": "\x00", "line break": "a\r\nb",
    "negative": "-1", "huge": "9" * 30, "no such day": "2026-02-30", "no such month": "2026-13",
    "unknown id": "ZZ-404", "unknown number": "9999", "markup": "<b>x</b>", "month zero": "0000-01",
}.items()} | {"lone surrogate": "%ED%A0%80", "not UTF-8": "%FF%FE"}

# A valid value of each form field, by name (an event form's type is each type in turn).
FORM_VALID = {
    "email": "alice@coop.test", "password": "not the password at all", "current": "not the password at all",
    "new": "a new password long enough", "next": "/", "name": "Nouvelle Personne",
    "role": "member", "member_id": "M001", "action": "role", "reason": "saisie en double", "month": "2026-01",
    "confirm": "2026-01", "without_payroll": "on", "event_id": "", "back": "AG2026",
    "assembly_id": "AG2026", "kind": "AGO", "held_on": "2026-12-15", "convocation": "1", "resolution_id": "R1",
    "title": "Approuver", "meeting_id": "AG2026", "mode": "present", "from_member": "M001", "to_member": "M003",
    "choice": "for", "cast_by": "", "joined_on": "2026-11-02", "status": "salarie", "on": "2026-11-02",
    "invoice_id": "F-M001-0001", "issued_on": "2026-11-02", "client": "Client", "credit_note_id": "A-H-1",
    "payment_id": "P-H-1", "received_on": "2026-11-02", "amount": "10,00", "from_credit": "",
    "expense_id": "X-H-1", "spent_on": "2026-11-02", "supplier": "Fournisseur", "amount_ht": "10,00",
    "vat": "2,00", "direct_cost": "", "from_month": "2026-11", "gross": "1000,00", "step": "check", "state": "open",
    "for_member": "", "debates": "La séance est ouverte.", "documents": "Rapport de gestion",  # the board's minutes (issue 17)
    # the treasury's forms (web.pages_bank, web.pages_member_bank): a line that is no line, an IBAN, the split's rows
    "iban": "FR7630006000011234567890189", "bic": "", "account": "FR7630006000011234567890189", "line_ref": "L-H-1",
    "format": "", **{f"{name}_{n}": "" for n in range(SPLITS) for name in (*TARGETS, "amount")},
    **{f"{name}_{n}": value for n in range(LINES)
       for name, value in (("label", "Ligne"), ("amount_ht", "10,00"), ("vat_rate", "0.20"))},
}
# What each type of an event form reads: only those vary (the others are not read).
TYPE_FIELDS = {
    "/staff/events": {t: [f.name for f in form.fields] + ([f"{k}_{n}" for n in range(LINES)
                                                          for k in ("label", "amount_ht", "vat_rate")]
                                                         if form.lines else []) for t, form in FORMS.items()},
    "/board/events": {t: list(names) for t, names in RECORDABLE.items()},
}
ROLES = (Role.MEMBER, Role.BOARD, Role.STAFF, Role.ADMIN)
QUIET = {"sessions", "login_failures"}  # what a request leaves whatever it asks: who is signed in, failed logins
KEPT_WHEN_REFUSED = {"dead_letters", "dead_letter_history", "audit_log"}  # a refused event: CONTRACT §1


@pytest.fixture
def victim(web: WebLedger) -> str:
    """An account for the admin's forms to change (not one the test signs in with)."""
    with web.engine.begin() as conn:
        return str(accounts.add_user(conn, "victim@coop.test", "a victim's long password", "board", None, "tests"))


def hostile_requests(routes: list[Declared], victim: str) -> Iterator[tuple[Declared, Role | None, str, dict[str, str],
                                                                            str]]:
    """(route, role, parameter, the valid values with that one made hostile, the value's name)."""
    valid = {**VALID, "user_id": victim}
    for route in routes:
        roles: list[Role | None] = [None] if route.rule.roles is None else [r for r in ROLES if route.serves(r)]
        variants = _form_variants(route)
        form = {"form": _encode(variants[0])} if variants else {}  # a POST's path goes with a valid form
        for role in roles:
            for name in (*route.path_params, *route.query):
                for label, value in HOSTILE.items():
                    yield route, role, name, {**valid, **form, name: value}, label
        varied: set[str] = set()
        for fields in variants:
            for name in [n for n in fields if n not in varied]:
                varied.add(name)
                for label, value in HOSTILE.items():
                    yield route, roles[0], f"form:{name}", {**valid, "form": _encode({**fields, name: value})}, label


def _form_variants(route: Declared) -> list[dict[str, str]]:
    """The form's fields, valid (encoded); for an event form, for each field the first type that
    reads it, with that type's other fields valid: every field declared, once."""
    if route.form is None:
        return []
    by_type = TYPE_FIELDS.get(route.path)
    if by_type is None:
        return [_valid(route.form.model_fields)]
    enum = route.form.model_json_schema()["properties"]["type"]["enum"]
    assert set(enum) == set(by_type), route.path
    variants = [{"type": kind, **_valid(["event_id", *by_type[kind]])} for kind in enum]
    assert set(route.form.model_fields) - {"back"} == {name for v in variants for name in v}, route.path
    return variants


def _valid(names: Iterable[str]) -> dict[str, str]:
    return {name: quote(FORM_VALID[name], safe="") for name in names if name != "type"}


def _encode(fields: dict[str, str]) -> str:
    return "&".join(f"{quote(name, safe='')}={value}" for name, value in fields.items())


def fingerprint(engine: Engine) -> dict[str, object]:
    """Each table of the ledger (the quiet ones aside): how many rows an append-only one has (the
    database refuses to change or delete them, `ledger.invariants`), a digest of the others' rows
    (a few small tables: members, accounts, dead letters). The counts come in one query."""
    tables = [t for t in schema.metadata.sorted_tables if t.name not in QUIET]
    appended = [t for t in tables if t.name in APPEND_ONLY]
    with engine.connect() as conn:
        counts = conn.execute(select(*(select(func.count()).select_from(t).scalar_subquery().label(t.name)
                                       for t in appended))).one()._asdict()
        digests = {t.name: hashlib.sha256(repr(sorted(repr(tuple(r)) for r in conn.execute(select(t)))).encode())
                   .hexdigest() for t in tables if t.name not in APPEND_ONLY}
    return counts | digests


def test_no_hostile_value_makes_a_500_nor_changes_the_ledger_when_refused(web: WebLedger, clients: dict[str, Any],
                                                                           victim: str) -> None:
    routes = [r for r in declared_routes(web.app()) if r.path != "/api/events"]  # its body: the test below
    with ExitStack() as running:  # each client's app kept running: not started again at each request
        for client in clients.values():
            running.enter_context(client)
        _drive(web, clients, routes, victim)


def _drive(web: WebLedger, clients: dict[str, Any], routes: list[Declared], victim: str) -> None:
    csrf = {identity: csrf_of(client.get("/login" if identity == "anonymous" else "/account").text)
            for identity, client in clients.items()}
    watch = ChangeWatch(web.engine)
    token, before = watch.token(), fingerprint(web.engine)
    wrong: list[str] = []
    sent = 0
    for route, role, name, values, label in hostile_requests(routes, victim):
        identity = "anonymous" if role is None else role.value
        client = clients["anonymous" if route.api or role is None else identity]
        url = route.url(values) + "?" + "&".join(f"{q}={values[q]}" for q in route.query if q in values)
        headers = web.bearer(identity) if route.api and role is not None else {}
        try:
            response = _send(client, route, url, headers, values.get("form"), csrf[identity])
        except Exception as exc:  # the test client raises what the app would answer with a 500
            wrong.append(f"{route.method} {route.path} as {identity}, {name} = {label}: raised {exc!r:.200}")
            continue
        sent += 1
        where = f"{route.method} {route.path} as {identity}, {name} = {label}: {response.status_code}"
        if problem := _judged(route, response):
            wrong.append(f"{where}: {problem}")
        now = watch.token()
        if now != token:
            token, after = now, fingerprint(web.engine)
            moved = {t for t in after if after[t] != before[t]}
            if response.status_code >= 400 and not _kept(web.engine, moved):
                wrong.append(f"{where}: refused, but changed {sorted(moved)}")
            before = after
    watch.close()
    assert wrong == [], f"{len(wrong)} of {sent} requests:\n" + "\n".join(wrong[:60])
    assert sent > 1000


def _send(client: Any, route: Declared, url: str, headers: dict[str, str], form: str | None, csrf: str) -> Any:
    if route.method == "GET":
        return client.get(url, headers=headers, follow_redirects=False)
    # a page's form with its session's CSRF token (only the token, where the form has no field)
    body = "&".join(part for part in (form, f"csrf={csrf}") if part)
    return client.request(route.method, url, content=body, follow_redirects=False,
                            headers={**headers, "content-type": "application/x-www-form-urlencoded"})


def _judged(route: Declared, response: Any) -> str | None:
    """What is wrong with an answer to a hostile request, if anything."""
    text = response.text
    if response.status_code >= 500 or "Traceback" in text:
        return text[:200]
    if response.status_code >= 400 and route.api and set(response.json()) - {"code"} != {"error"}:
        return f"not an error document: {text[:120]}"
    if response.status_code >= 400 and not route.api and '<html lang="fr">' not in text:
        return f"not a page in French: {text[:120]}"
    return None


def _kept(engine: Engine, moved: set[str]) -> bool:
    """Whether what a refused request changed is what a refusal keeps: a refused event as a dead
    letter, with its history and the audit row of who sent it; a job that failed, in the run log."""
    if "runs" in moved:
        with engine.connect() as conn:
            last = conn.scalar(select(schema.runs.c.outcome).order_by(schema.runs.c.id.desc()).limit(1))
        if last != "failed":
            return False
    moved = moved - {"runs"}
    return not moved or "dead_letters" in moved and moved <= KEPT_WHEN_REFUSED


def test_hostile_lines_posted_to_the_api_are_dead_letters(web: WebLedger) -> None:
    """`POST /api/events` takes a stream of events, whatever is in them: each hostile value, as an
    event's id and in its fields, is a line's outcome (processed, or a dead letter with its
    reason), never a 500 (an id with a NUL crashed PostgreSQL's dead letters, a lone surrogate
    SQLite's)."""
    client = web.client()
    # (bytes that are not UTF-8 decode to lone surrogates, which JSON writes as \\udcxx escapes)
    values = {label: unquote(value, errors="surrogateescape") for label, value in HOSTILE.items()}
    for label, value in values.items():
        for n, event in enumerate((
                {"event_id": value, "type": "member.left", "member_id": "M002", "on": "2026-11-30"},
                {"event_id": f"hostile-{label}", "type": "invoice.issued", "member_id": value, "invoice_id": value,
                 "issued_on": "2026-11-02", "client": value,
                 "lines": [{"label": value, "amount_ht": value, "vat_rate": "0.20"}]})):
            body = json.dumps({**event, "occurred_at": "2026-11-01T09:00:00Z"}).encode()  # \\u escapes
            response = client.post("/api/events", content=body, headers=web.bearer("staff"))
            assert response.status_code == 200, (label, n, response.text[:200])
            (line,) = response.json()["results"]
            assert line["outcome"] in ("processed", "dead_letter"), (label, n, line)
