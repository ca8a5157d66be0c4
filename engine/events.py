"""The events of CONTRACT.md §1, validated strictly at the door.

Strict means: amounts are strings with at most 2 decimals (a float is refused,
it has already lost the cent), dates are ISO dates, timestamps carry their
offset, unknown fields are refused (a misspelt `amount_HT` must not pass as a
missing optional), and only EUR is accepted in v1. A validation failure is a
value (`EventError`) with a one-line reason, so the edges can dead-letter it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, Union, cast

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)

from engine.money import CURRENCY, MoneyError, parse_amount, parse_rate
from engine.wording import term


class EventError(ValueError):
    """Why an event cannot be taken: one line, fit for a dead letter and a user."""


def _amount(value: Any) -> Decimal:
    if isinstance(value, float):
        example = f"{value:.2f}" if math.isfinite(value) and abs(value) < 1e12 else "12.50"
        raise MoneyError(f"{term(value)} is a float: amounts are strings such as \"{example}\"")
    if not isinstance(value, str):
        raise MoneyError(f"{term(value)} is not an amount string such as \"12.50\"")
    return parse_amount(value)


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise MoneyError(f"{term(value)} is not a positive amount")
    return value


def _vat_rate(value: Any) -> Decimal:
    if isinstance(value, float):
        raise MoneyError(f"{term(value)} is a float: rates are strings such as \"0.20\"")
    if not isinstance(value, str):
        raise MoneyError(f"{term(value)} is not a rate string such as \"0.20\"")
    rate = parse_rate(value)
    if rate >= 1:
        raise MoneyError(f"VAT rate {term(value)} is not below 1 (write 20 % as \"0.20\")")
    return rate


MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


def _month(value: str) -> str:
    if not re.fullmatch(MONTH_PATTERN[1:-1], value, re.ASCII):
        raise ValueError(f"{term(value)} is not a month YYYY-MM")
    return value


def _currency(value: str) -> str:
    if value != CURRENCY:
        raise ValueError(f"{term(value)} is not supported: v1 takes EUR documents only")
    return value


# What `cae schema` says of each type: generated from these annotations with the models,
# so the published schema is the validators' own (issue 8: it cannot drift).
_AMOUNT_SCHEMA = {"type": "string", "pattern": r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$",
                  "description": "euros as a string, at most 2 decimals, such as \"1250.50\""}
_RATE_SCHEMA = {"type": "string", "pattern": r"^0(\.[0-9]{1,6})?$",
                "description": "a VAT rate below 1, as a string, such as \"0.20\""}
Amount = Annotated[Decimal, BeforeValidator(_amount), WithJsonSchema(_AMOUNT_SCHEMA)]
PositiveAmount = Annotated[Decimal, BeforeValidator(_amount), AfterValidator(_positive),
                           WithJsonSchema({**_AMOUNT_SCHEMA, "description": "a positive amount in euros "
                                           "as a string, at most 2 decimals, such as \"1250.50\""})]
VatRate = Annotated[Decimal, BeforeValidator(_vat_rate), WithJsonSchema(_RATE_SCHEMA)]
_NO_CONTROL = r"^[^\x00-\x1f]+$"
Id = Annotated[str, Field(min_length=1, max_length=128, pattern=_NO_CONTROL)]
Text = Annotated[str, Field(min_length=1, max_length=500, pattern=_NO_CONTROL)]
Month = Annotated[str, AfterValidator(_month), WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN})]
Currency = Annotated[str, AfterValidator(_currency), WithJsonSchema({"const": CURRENCY})]
Status = Literal["cape", "salarie"]


class AnyEvent(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    type: str
    event_id: Id
    occurred_at: AwareDatetime

    def get(self, name: str) -> Any:
        """A field that only some event types have, or None.

        Fields live in the instance `__dict__`; going through `getattr` with a
        default would make pydantic raise and catch an error per miss, which
        shows in the profile of a large ingest.
        """
        return self.__dict__.get(name)

    @property
    def partition_key(self) -> str | None:
        """The Kafka key: the member the event belongs to (CONTRACT.md §2)."""
        member_id: str | None = self.get("member_id")
        return member_id


class MemberJoined(AnyEvent):
    type: Literal["member.joined"]
    member_id: Id
    name: Text
    joined_on: date
    status: Status


class MemberStatusChanged(AnyEvent):
    type: Literal["member.status_changed"]
    member_id: Id
    on: date
    status: Status


class MemberBecameAssociate(AnyEvent):
    type: Literal["member.became_associate"]
    member_id: Id
    on: date


class MemberLeft(AnyEvent):
    type: Literal["member.left"]
    member_id: Id
    on: date


class DocumentLine(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    label: Text
    amount_ht: PositiveAmount
    vat_rate: VatRate


Lines = Annotated[tuple[DocumentLine, ...], Field(min_length=1, max_length=500)]


class InvoiceIssued(AnyEvent):
    type: Literal["invoice.issued"]
    invoice_id: Id
    member_id: Id
    issued_on: date
    client: Text
    lines: Lines
    currency: Currency = CURRENCY


class CreditNoteIssued(AnyEvent):
    type: Literal["credit_note.issued"]
    credit_note_id: Id
    invoice_id: Id
    member_id: Id
    issued_on: date
    lines: Lines
    currency: Currency = CURRENCY


class PaymentReceived(AnyEvent):
    """Money for an invoice: from the bank, or (`from_credit`) from what the client overpaid before.

    DOMAIN.md rule 9: an overpayment stays as the client's credit balance; a
    later payment event with `from_credit: true` applies it to another invoice
    of the same client and member, and moves no money through the bank.
    """

    type: Literal["payment.received"]
    payment_id: Id
    invoice_id: Id
    member_id: Id
    received_on: date
    amount: PositiveAmount
    currency: Currency = CURRENCY
    from_credit: bool = False


class ExpenseRecorded(AnyEvent):
    type: Literal["expense.recorded"]
    expense_id: Id
    member_id: Id
    spent_on: date
    supplier: Text
    amount_ht: PositiveAmount
    vat: Amount
    direct_cost: bool
    currency: Currency = CURRENCY


class SalarySet(AnyEvent):
    """A requested gross; zero is allowed: it is how a member pauses their salary."""

    type: Literal["salary.set"]
    member_id: Id
    from_month: Month
    gross: Amount


class AssemblyConvened(AnyEvent):
    type: Literal["assembly.convened"]
    assembly_id: Id
    kind: Literal["AGO", "AGE"]
    held_on: date
    convocation: Literal[1, 2]


class ResolutionProposed(AnyEvent):
    type: Literal["resolution.proposed"]
    resolution_id: Id
    assembly_id: Id
    title: Text


class RitualHeld(AnyEvent):
    type: Literal["ritual.held"]
    meeting_id: Id
    kind: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
    held_on: date
    title: Text


class AttendanceRecorded(AnyEvent):
    type: Literal["attendance.recorded"]
    meeting_id: Id
    member_id: Id
    mode: Literal["present", "remote", "excused", "absent"]


class ProxyGiven(AnyEvent):
    type: Literal["proxy.given"]
    assembly_id: Id
    from_member: Id
    to_member: Id


class VoteCast(AnyEvent):
    type: Literal["vote.cast"]
    resolution_id: Id
    member_id: Id
    choice: Literal["for", "against", "abstain", "blank"]
    cast_by: Id | None = None


MemberEvent = Union[
    MemberJoined, MemberStatusChanged, MemberBecameAssociate, MemberLeft,
    InvoiceIssued, CreditNoteIssued, PaymentReceived, ExpenseRecorded, SalarySet,
]
GovernanceEvent = Union[
    AssemblyConvened, ResolutionProposed, RitualHeld, AttendanceRecorded, ProxyGiven, VoteCast,
]
Event = Annotated[Union[MemberEvent, GovernanceEvent], Field(discriminator="type")]

GOVERNANCE_TYPES = frozenset(
    m.model_fields["type"].annotation.__args__[0]
    for m in GovernanceEvent.__args__  # type: ignore[attr-defined]
)

_ADAPTER: TypeAdapter[Any] = TypeAdapter(cast(Any, Event))  # a union, which mypy does not take for a type
MAX_EVENT_BYTES = 64 * 1024


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return found


def _refuse_duplicate_keys(text: str) -> None:
    """DOMAIN.md rule 8: an object naming a key twice is refused, not read with its last value.

    JSON parsers (pydantic's among them) keep the last of two equal keys, so
    `"amount_ht": "100.00", "amount_ht": "99999.00"` would post 99,999.00 while a
    reader of the line sees 100.00. Text that is not JSON is left to the
    validator, which says how it is broken.
    """
    try:
        json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise EventError(f"duplicate key {term(exc.args[0])} in a JSON object: each key may appear "
                         "only once") from None
    except (ValueError, RecursionError):
        pass


def decode(raw: bytes) -> AnyEvent:
    """Bytes of one event to a validated event, or `EventError` saying why not."""
    if len(raw) > MAX_EVENT_BYTES:
        raise EventError(f"event of {len(raw)} bytes is over the {MAX_EVENT_BYTES} bytes limit")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EventError(f"not UTF-8 text (byte {exc.start}: 0x{raw[exc.start]:02x})") from None
    _refuse_duplicate_keys(text)
    try:
        event: AnyEvent = _ADAPTER.validate_json(raw, strict=True)
    except ValidationError as exc:
        raise EventError(_reason(exc)) from None
    return event


def claimed_event_id(raw: bytes) -> str | None:
    """The `event_id` a line claims, read without validating it: for a line that is refused,
    so that its corrected version (same id, now valid) settles its dead letter. An id no valid
    event could have (too long, control characters) is not claimed: issue 14, point 5."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    found = document.get("event_id") if isinstance(document, dict) else None
    if not isinstance(found, str) or not 0 < len(found) <= 128 or not re.fullmatch(_NO_CONTROL, found):
        return None  # (a NUL is no text PostgreSQL stores: the dead letter keeps no id, not a crash)
    try:
        found.encode()  # nor is a lone surrogate (`"\ud800"`, valid JSON) text any database stores
    except UnicodeEncodeError:
        return None
    return found


def fingerprint(event: AnyEvent) -> str:
    """What makes two events with one id "the same": their validated content."""
    return hashlib.sha256(event.model_dump_json().encode()).hexdigest()


def _reason(exc: ValidationError) -> str:
    """A pydantic error as one line a member of staff can act on."""
    first = exc.errors(include_url=False)[0]
    kind = first["type"]
    if kind == "json_invalid":
        return f"not valid JSON ({first['msg'].removeprefix('Invalid JSON: ')})"
    if kind in ("model_type", "model_attributes_type", "dict_type") and not first["loc"]:
        return "not a JSON object"
    if kind == "union_tag_not_found":
        return 'missing field "type"'
    if kind == "union_tag_invalid":
        return f"unknown event type {term(first['input'].get('type'))}" if isinstance(
            first["input"], dict) else "unknown event type"
    loc = ".".join(str(p) for p in first["loc"][1:]) or "event"
    msg = first["msg"].removeprefix("Value error, ")
    if kind == "missing":
        return f"missing field {term(loc)}"
    if kind == "extra_forbidden":
        return f"unknown field {term(loc)}"
    if kind == "string_pattern_mismatch" and first["ctx"].get("pattern") == _NO_CONTROL:
        return f"{loc}: control characters (tab, newline, NUL…) are not allowed"
    return f"{loc}: {msg}"


def is_governance(event: AnyEvent) -> bool:
    return event.type in GOVERNANCE_TYPES


def json_schema() -> dict[str, Any]:
    """The JSON Schema of every event (`cae schema`), made from the validators themselves."""
    schema = _ADAPTER.json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "CAE engine event"
    schema["description"] = ("One event of the CAE engine: a JSON object, one per line of a .jsonl "
                             "file or per Kafka message. Amounts are strings with at most 2 decimals; "
                             "a key may appear only once in an object.")
    return schema

