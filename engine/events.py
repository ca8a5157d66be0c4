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
import threading
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, Union, cast

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from engine import bounds, characters
from engine.messages import Message, Refused
from engine.money import CURRENCY, ZERO, MoneyError, parse_amount, parse_rate, round_cents
from engine.wording import term


class EventError(Refused):
    """Why an event cannot be taken: one line, fit for a dead letter and a user, in the catalogue
    (`engine.messages`) so that the staff's pages say it in French (issue 15)."""


def _amount(value: Any) -> Decimal:
    if isinstance(value, float):
        example = f"{value:.2f}" if math.isfinite(value) and abs(value) < 1e12 else "12.50"
        raise MoneyError("amount.float", value=value, example=example)
    if not isinstance(value, str):
        raise MoneyError("amount.not_string", value=value, example="12.50")
    amount = parse_amount(value)
    if amount > bounds.CEILING:
        raise MoneyError("amount.over", amount=amount, ceiling=bounds.CEILING)
    return amount


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise MoneyError("amount.not_positive", value=value)
    return value


def _vat_rate(value: Any) -> Decimal:
    if isinstance(value, float):
        raise MoneyError("rate.float", value=value)
    if not isinstance(value, str):
        raise MoneyError("rate.not_string", value=value)
    rate = parse_rate(value)
    if rate >= 1:
        raise MoneyError("rate.not_below_one", value=value)
    return rate


MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


def _today(info: ValidationInfo) -> date:
    """The day the window is drawn from: `decode`'s caller gives it (never read from a clock here)."""
    context: dict[str, date] = info.context or {}
    return context["today"]


def _month(value: str, info: ValidationInfo) -> str:
    return bounds.check_month(value, _today(info))


def _day(value: date, info: ValidationInfo) -> date:
    return bounds.check_day(value, _today(info))


def _moment(value: datetime, info: ValidationInfo) -> datetime:
    bounds.check_day(value.date(), _today(info))
    return value


def _check_ttc(total: Decimal, made_of: str) -> None:
    """A document's TTC is at most the ceiling too: 500 lines each under it would not be."""
    if total > bounds.CEILING:
        raise Refused("document.over", made_of=made_of, total=total, ceiling=bounds.CEILING)


def _document_total(lines: tuple[DocumentLine, ...]) -> tuple[DocumentLine, ...]:
    _check_ttc(sum((line.amount_ht + line.vat for line in lines), ZERO), "the lines")
    return lines


def _currency(value: str) -> str:
    if value != CURRENCY:
        raise Refused("currency.unsupported", value=value)
    return value


# What `cae schema` says of each type: generated from these annotations with the models,
# so the published schema is the validators' own (issue 8: it cannot drift).
_AMOUNT_SCHEMA = {"type": "string", "pattern": r"^(0|[1-9][0-9]{0,5})(\.[0-9]{1,2})?$",
                  "description": "euros as a string, at most 2 decimals, such as \"1250.50\"; at most "
                                 f"{bounds.CEILING} (a document's TTC too)"}
_RATE_SCHEMA = {"type": "string", "pattern": r"^0(\.[0-9]{1,6})?$",
                "description": "a VAT rate below 1, as a string, such as \"0.20\""}
Amount = Annotated[Decimal, BeforeValidator(_amount), WithJsonSchema(_AMOUNT_SCHEMA)]
PositiveAmount = Annotated[Decimal, BeforeValidator(_amount), AfterValidator(_positive),
                           WithJsonSchema({**_AMOUNT_SCHEMA, "description": "a positive amount in euros "
                                           "as a string, at most 2 decimals, such as \"1250.50\"; at most "
                                           f"{bounds.CEILING} (a document's TTC too)"})]
VatRate = Annotated[Decimal, BeforeValidator(_vat_rate), WithJsonSchema(_RATE_SCHEMA)]
_PLAIN = ("without a control character, a line or paragraph separator, a bidirectional control "
          "(U+202A-U+202E, U+2066-U+2069) or a lone surrogate")
Id = Annotated[str, Field(min_length=1, max_length=128, pattern=characters.PATTERN, description=f"an id, {_PLAIN}")]
Text = Annotated[str, Field(min_length=1, max_length=500, pattern=characters.PATTERN,
                            description=f"a text, {_PLAIN}")]
_PARAGRAPHS = ("paragraphs: newlines allowed, no other control character, no line or paragraph "
               "separator, bidirectional control or lone surrogate")
TEXT_LENGTH, DEBATES_LENGTH = 10_000, 40_000  # a resolution's text; the debates (within the 64 KiB of an event)
Paragraphs = Annotated[str, Field(min_length=1, max_length=TEXT_LENGTH, pattern=characters.PARAGRAPHS_PATTERN,
                                  description=f"a text of at most {TEXT_LENGTH} characters, {_PARAGRAPHS}")]
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f.]+$",
                             description="an email address such as \"name@example.org\" (at most 254 characters)")]
_WINDOW = (f"from {bounds.FIRST_DAY.isoformat()} to 31 December of the year after next (today's year + "
           f"{bounds.YEARS_AHEAD})")
Month = Annotated[str, AfterValidator(_month), WithJsonSchema(
    {"type": "string", "pattern": MONTH_PATTERN, "description": f"a month YYYY-MM, from {bounds.FIRST_DAY:%Y-%m} "
     f"to December of the year after next (today's year + {bounds.YEARS_AHEAD})"})]
Day = Annotated[date, AfterValidator(_day), WithJsonSchema(
    {"type": "string", "format": "date", "description": f"a date YYYY-MM-DD, {_WINDOW}"})]
Moment = Annotated[AwareDatetime, AfterValidator(_moment), WithJsonSchema(
    {"type": "string", "format": "date-time", "description": f"an RFC 3339 timestamp with its offset, {_WINDOW}"})]
Currency = Annotated[str, AfterValidator(_currency), WithJsonSchema({"const": CURRENCY})]
Status = Literal["cape", "salarie"]

# -- treasury (DOMAIN.md rules 10-13, CONTRACT.md §5) ---------------------------------------------
# A bank balance is the cooperative's, not one document's: up to 100 times the ceiling of one
# amount (99,999,999.99 €, under 10^10 cents); a line is one movement, at most the ceiling either way.
BALANCE_CEILING = Decimal("99999999.99")
_SIGNED = re.compile(r"-?(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?", re.ASCII)


def _signed(limit: Decimal) -> Any:
    def check(value: Any) -> Decimal:
        if isinstance(value, float):
            raise MoneyError("amount.float", value=value, example="-12.50")
        if not isinstance(value, str) or not _SIGNED.fullmatch(value):
            raise MoneyError("amount.not_signed", value=value)
        amount = Decimal(value).quantize(Decimal("0.01"))
        if abs(amount) > limit:
            raise MoneyError("amount.beyond", amount=amount, ceiling=limit)
        return amount
    return check


def _not_zero(value: Decimal) -> Decimal:
    if value == 0:
        raise MoneyError("amount.zero_bank_line")
    return value


def valid_iban(value: str) -> str:
    """Rule 10/13: an IBAN checked by schwifty (country, length, check digits), kept in compact form."""
    try:
        return str(IBAN(value).compact)
    except SchwiftyException as exc:
        raise Refused("iban.invalid", value=value, detail=str(exc)) from None


def _bic(value: str) -> str:
    try:
        return str(BIC(value).compact)
    except SchwiftyException as exc:
        raise Refused("bic.invalid", value=value, detail=str(exc)) from None


_SIGNED_SCHEMA = {"type": "string", "pattern": r"^-?(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"}
LineAmount = Annotated[Decimal, BeforeValidator(_signed(bounds.CEILING)), AfterValidator(_not_zero),
                       WithJsonSchema({**_SIGNED_SCHEMA, "description": "euros as a signed string (a credit "
                                       f"is positive, a debit negative), not 0, at most ±{bounds.CEILING}"})]
Balance = Annotated[Decimal, BeforeValidator(_signed(BALANCE_CEILING)), WithJsonSchema(
    {**_SIGNED_SCHEMA, "description": f"euros as a signed string, at most ±{BALANCE_CEILING}"})]
Iban = Annotated[str, Field(min_length=15, max_length=42), AfterValidator(valid_iban), WithJsonSchema(
    {"type": "string", "pattern": r"^[A-Z]{2}[0-9]{2}[A-Za-z0-9 ]{11,38}$",
     "description": "an IBAN (country, length and check digits are checked); spaces are dropped"})]
Bic = Annotated[str, Field(min_length=8, max_length=11), AfterValidator(_bic), WithJsonSchema(
    {"type": "string", "pattern": r"^[A-Z0-9]{8}([A-Z0-9]{3})?$", "description": "a BIC (8 or 11 characters)"})]
# The other bank's data: its IBAN is only a clue for matching (rule 11 d, e), so its shape is
# checked, not its check digits (a statement is not refused for another bank's typo).
OtherIban = Annotated[str, Field(pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$",
                                 description="the counterparty's IBAN, compact, as the bank gives it")]
LedgerAccount = Annotated[str, Field(pattern=r"^[1-7][0-9]{2,7}$", description=(
    "an account number of the French chart (PCG), 3 to 8 digits, classes 1 to 7, such as \"431\""))]
MAX_STATEMENT_LINES = 5000


class AnyEvent(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    type: str
    event_id: Id
    occurred_at: Moment

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
    joined_on: Day
    status: Status


class MemberStatusChanged(AnyEvent):
    type: Literal["member.status_changed"]
    member_id: Id
    on: Day
    status: Status


class MemberBecameAssociate(AnyEvent):
    type: Literal["member.became_associate"]
    member_id: Id
    on: Day


class MemberLeft(AnyEvent):
    type: Literal["member.left"]
    member_id: Id
    on: Day


class DocumentLine(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    label: Text
    amount_ht: PositiveAmount
    vat_rate: VatRate

    @property
    def vat(self) -> Decimal:
        """DOMAIN.md rule 1: VAT is rounded per line."""
        return round_cents(self.amount_ht * self.vat_rate)


Lines = Annotated[tuple[DocumentLine, ...], Field(min_length=1, max_length=500, description=(
    f"the document's lines; with their VAT, at most {bounds.CEILING} in all")), AfterValidator(_document_total)]


class InvoiceIssued(AnyEvent):
    type: Literal["invoice.issued"]
    invoice_id: Id
    member_id: Id
    issued_on: Day
    client: Text
    lines: Lines
    currency: Currency = CURRENCY


class CreditNoteIssued(AnyEvent):
    type: Literal["credit_note.issued"]
    credit_note_id: Id
    invoice_id: Id
    member_id: Id
    issued_on: Day
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
    received_on: Day
    amount: PositiveAmount
    currency: Currency = CURRENCY
    from_credit: bool = False


class ExpenseRecorded(AnyEvent):
    type: Literal["expense.recorded"]
    expense_id: Id
    member_id: Id
    spent_on: Day
    supplier: Text
    amount_ht: PositiveAmount
    vat: Amount
    direct_cost: bool
    currency: Currency = CURRENCY

    @field_validator("vat")
    @classmethod
    def _ttc(cls, vat: Decimal, info: ValidationInfo) -> Decimal:
        if "amount_ht" in info.data:  # else amount_ht was refused, which says enough
            _check_ttc(info.data["amount_ht"] + vat, "amount_ht and vat")
        return vat


class SalarySet(AnyEvent):
    """A requested gross; zero is allowed: it is how a member pauses their salary."""

    type: Literal["salary.set"]
    member_id: Id
    from_month: Month
    gross: Amount


class _LaterFields(AnyEvent):
    """An event type that gained optional fields after it was published (issue 17).

    An event that does not give them is dumped without them, so its stored JSON and its
    `fingerprint` are what they were before the fields existed: an event processed last year and
    sent again today is still "the same" (a duplicate), never a conflict.
    """

    _LATER: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _without_unset_later(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        for name in self._LATER:
            if dumped.get(name) is None:
                dumped.pop(name, None)
        return dumped


class AssemblyConvened(_LaterFields):
    """`convened_on`: the day the convocation was sent (DOMAIN.md G1); `vote_deadline`: until when a
    vote by correspondence counts (G2; without it, the eve of `held_on` at 15:00, `governance.convocation`)."""

    _LATER = ("convened_on", "place", "remote", "vote_deadline")
    type: Literal["assembly.convened"]
    assembly_id: Id
    kind: Literal["AGO", "AGE"]
    held_on: Day
    convocation: Literal[1, 2]
    convened_on: Day | None = None
    place: Text | None = None
    remote: bool | None = None
    vote_deadline: Moment | None = None

    @model_validator(mode="after")
    def _in_order(self) -> AssemblyConvened:
        if self.convened_on is not None and self.convened_on > self.held_on:
            raise ValueError(f"convened_on {self.convened_on} is after held_on {self.held_on}")
        return self


class ResolutionProposed(_LaterFields):
    _LATER = ("text", "secret")
    type: Literal["resolution.proposed"]
    resolution_id: Id
    assembly_id: Id
    title: Text
    text: Paragraphs | None = None
    secret: bool | None = None


class RitualHeld(AnyEvent):
    type: Literal["ritual.held"]
    meeting_id: Id
    kind: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
    held_on: Day
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


class VoteCast(_LaterFields):
    """`mode` (issue 17): `direct`, `correspondence` (cast at `occurred_at`, compared with the
    assembly's vote deadline, DOMAIN.md G2) or `proxy`; without it, implied by `cast_by`."""

    _LATER = ("mode",)
    type: Literal["vote.cast"]
    resolution_id: Id
    member_id: Id
    choice: Literal["for", "against", "abstain", "blank"]
    cast_by: Id | None = None
    mode: Literal["direct", "correspondence", "proxy"] | None = None

    @model_validator(mode="after")
    def _mode_fits(self) -> VoteCast:
        by_other = self.cast_by is not None and self.cast_by != self.member_id
        if self.mode == "proxy" and not by_other:
            raise ValueError("mode \"proxy\" needs cast_by, the holder of member_id's proxy")
        if self.mode in ("direct", "correspondence") and by_other:
            raise ValueError(f"mode {json.dumps(self.mode)} is the member's own vote: cast_by must be "
                             "absent or member_id")
        return self


# --- Members in their assemblies (issue 17, DOMAIN.md G1-G5; CONTRACT.md §6) ---

class MemberContactSet(_LaterFields):
    """A member's email and their written consent to be convened by email (Code de commerce R225-63),
    and (later, optional) to be told by email when their monthly statement is ready; the latest one of
    a member holds."""

    _LATER = ("statements_by_email",)
    type: Literal["member.contact_set"]
    member_id: Id
    email: Email
    convocation_by_email: bool
    on: Day
    statements_by_email: bool | None = None


class ConvocationSent(AnyEvent):
    type: Literal["convocation.sent"]
    assembly_id: Id
    member_id: Id
    channel: Literal["email", "letter"]
    sent_on: Day


class BureauAppointed(AnyEvent):
    """The assembly's officers (bureau, R225-101): they sign the minutes and certify the sheet."""

    type: Literal["bureau.appointed"]
    assembly_id: Id
    member_id: Id
    role: Literal["chair", "secretary", "scrutineer"]


class ResolutionVoting(AnyEvent):
    """The chair opens, then closes, the vote on a resolution at the assembly (issue 17, point 4): while
    it is open a present associate votes from the assembly's page; once closed its result is shown to all."""

    type: Literal["resolution.voting"]
    resolution_id: Id
    state: Literal["open", "closed"]


class MinutesRecorded(_LaterFields):
    """The summary of the debates and the documents and reports submitted to the assembly (R225-106);
    the latest one of an assembly holds. `documents` came later: an event without it hashes as before."""

    _LATER = ("documents",)
    type: Literal["minutes.recorded"]
    assembly_id: Id
    debates: Annotated[str, Field(min_length=1, max_length=DEBATES_LENGTH, pattern=characters.PARAGRAPHS_PATTERN,
                                  description=f"the summary of the debates, {_PARAGRAPHS}")]
    recorded_by: Id
    documents: Annotated[str, Field(min_length=1, max_length=TEXT_LENGTH, pattern=characters.PARAGRAPHS_PATTERN,
                                    description=f"the documents and reports submitted, {_PARAGRAPHS}")] | None = None


class MemberBankAccountSet(AnyEvent):
    """A member's IBAN for their net pay (rule 13), from `from` on; a later event replaces it."""

    type: Literal["member.bank_account_set"]
    member_id: Id
    iban: Iban
    bic: Bic | None = None
    from_: Day = Field(alias="from")


class BankLine(BaseModel):
    """One booked movement of a statement (CONTRACT.md §5); `line_ref` is its identity (rule 10)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    line_ref: Id
    booked_on: Day
    value_on: Day
    amount: LineAmount
    counterparty_name: Text | None = None
    counterparty_iban: OtherIban | None = None
    remittance: Text | None = None
    end_to_end_id: Id | None = None


def _distinct_refs(lines: tuple[BankLine, ...]) -> tuple[BankLine, ...]:
    refs = [line.line_ref for line in lines]
    if len(set(refs)) != len(refs):
        twice = next(ref for ref in refs if refs.count(ref) > 1)
        raise ValueError(f"line_ref {term(twice)} is given to two lines of the statement")
    return lines


class _BankEvent(AnyEvent):
    @property
    def partition_key(self) -> str | None:
        """Bank events go to `cae.bank` keyed by the account's IBAN (CONTRACT.md §5)."""
        account: str = self.__dict__["account"]
        return account


class BankStatementReceived(_BankEvent):
    """A statement, taken whole or not at all (rule 10: `engine.treasury_rules`).

    `account` must be an IBAN: a statement whose file names its account otherwise
    (an OFX export of a non-French bank giving only its own account number) is
    refused at the door; a CSV mapping can give the IBAN instead.
    """

    type: Literal["bank.statement_received"]
    account: Iban
    statement_id: Id
    opening_balance: Balance
    closing_balance: Balance
    from_: Day = Field(alias="from")
    to: Day
    lines: Annotated[tuple[BankLine, ...], Field(max_length=MAX_STATEMENT_LINES), AfterValidator(_distinct_refs)]
    currency: Currency = CURRENCY


class Assignment(BaseModel):
    """What (part of) a bank line settles, as the staff say: exactly one of the three forms."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    invoice_id: Id | None = None
    member_id: Id | None = None
    net_pay_month: Month | None = None
    ledger_account: LedgerAccount | None = None
    label: Text | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Assignment:
        check_form(self)
        return self


def check_form(target: Assignment) -> None:
    """One assignment's form (CONTRACT.md §5), for a whole event and for each of its splits."""
    forms = [target.invoice_id is not None, target.net_pay_month is not None, target.ledger_account is not None]
    if sum(forms) != 1:
        raise ValueError("give exactly one of invoice_id, member_id + net_pay_month, or ledger_account + label")
    if target.invoice_id is not None and (target.member_id or target.label):
        raise ValueError("an invoice_id stands alone: its member is the invoice's")
    if target.net_pay_month is not None and (target.member_id is None or target.label):
        raise ValueError("net_pay_month goes with member_id (whose net pay), and nothing else")
    if target.ledger_account is not None and target.label is None:
        raise ValueError("ledger_account goes with a label (what the movement was)")


class Split(Assignment):
    amount: PositiveAmount


class BankLineAssigned(Assignment, _BankEvent):
    """The staff's assignment of an unmatched line (rule 11): one target, or `splits`.

    Split amounts are positive, parts of the line's amount without its sign;
    that they add up to the line is checked when the line is known
    (`engine.treasury_rules`).
    """

    type: Literal["bank.line_assigned"]
    line_ref: Id
    account: Iban
    assigned_by: Text
    splits: Annotated[tuple[Split, ...], Field(min_length=2, max_length=100)] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> BankLineAssigned:
        if self.splits is None:
            check_form(self)
        elif any(getattr(self, name) is not None for name in Assignment.model_fields):
            raise ValueError("give either splits or one assignment, not both")
        return self


MemberEvent = Union[
    MemberJoined, MemberStatusChanged, MemberBecameAssociate, MemberLeft,
    InvoiceIssued, CreditNoteIssued, PaymentReceived, ExpenseRecorded, SalarySet, MemberBankAccountSet,
]
BankEvent = Union[BankStatementReceived, BankLineAssigned]
GovernanceEvent = Union[
    AssemblyConvened, ResolutionProposed, RitualHeld, AttendanceRecorded, ProxyGiven, VoteCast,
    MemberContactSet, ConvocationSent, BureauAppointed, MinutesRecorded, ResolutionVoting,
]
Event = Annotated[Union[MemberEvent, GovernanceEvent, BankEvent], Field(discriminator="type")]

GOVERNANCE_TYPES = frozenset(
    m.model_fields["type"].annotation.__args__[0]
    for m in GovernanceEvent.__args__  # type: ignore[attr-defined]
)
BANK_TYPES = frozenset(
    m.model_fields["type"].annotation.__args__[0]
    for m in BankEvent.__args__  # type: ignore[attr-defined]
)

_ADAPTER: TypeAdapter[Any] = TypeAdapter(cast(Any, Event))  # a union, which mypy does not take for a type
MAX_EVENT_BYTES = 64 * 1024
# A month's statement of a cooperative runs to thousands of lines: it may be larger, up to
# just under Kafka's default message size (1 MiB), which `cae.bank` must carry too.
MAX_STATEMENT_BYTES = 1000 * 1024


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


class _Reader(threading.local):
    """One JSON reader per thread for every line: `json.loads` with a hook builds a new decoder per
    call (issue 18); per thread, since a reader's scanner keeps a memo while it reads."""

    def __init__(self) -> None:
        self.decoder = json.JSONDecoder(object_pairs_hook=_unique_keys)


_READER = _Reader()


def _parsed(text: str) -> Any:
    """The JSON document, read by Python's parser; None if it is not JSON (the validator says how).

    DOMAIN.md rule 8: an object naming a key twice is refused, not read with its last value.
    JSON parsers (pydantic's among them) keep the last of two equal keys, so
    `"amount_ht": "100.00", "amount_ht": "99999.00"` would post 99,999.00 while a
    reader of the line sees 100.00.
    """
    try:
        return _READER.decoder.decode(text)
    except _DuplicateKey as exc:
        raise EventError("event.duplicate_key", key=exc.args[0]) from None
    except (ValueError, RecursionError):
        return None


def _hidden_in(value: Any, path: tuple[str, ...] = ()) -> Message | None:
    """Where a parsed document holds a character no text may hold, and which (`engine.characters`).

    For a lone surrogate ("\\udc00"), which pydantic's parser refuses as "not valid JSON" without
    naming the field: Python's parser takes it, and this names the field.
    """
    where = ".".join(path) or "event"
    if isinstance(value, str):
        found = characters.hidden_character(value)
        return Message.of("event.field", field=where, reason=found) if found else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        if isinstance(key, str) and (found := characters.hidden_character(key)):
            return Message.of("event.field_name", field=where, reason=found)  # not the name: it cannot be shown
        if found := _hidden_in(inner, (*path, str(key))):
            return found
    return None


def decode(raw: bytes, today: date) -> AnyEvent:
    """Bytes of one event to a validated event, or `EventError` saying why not.

    `today` draws the dates' window (`engine.bounds`): the caller's clock, so that
    the engine reads none and a test can set it.
    """
    if len(raw) > MAX_STATEMENT_BYTES:
        raise EventError("event.statement_too_big", size=len(raw), limit=MAX_EVENT_BYTES,
                         statement=MAX_STATEMENT_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EventError("event.not_utf8", at=exc.start, byte=f"0x{raw[exc.start]:02x}") from None
    document = _parsed(text)
    if len(raw) > MAX_EVENT_BYTES and not (isinstance(document, dict)
                                           and document.get("type") == "bank.statement_received"):
        raise EventError("event.too_big", size=len(raw), limit=MAX_EVENT_BYTES)
    try:
        event: AnyEvent = _ADAPTER.validate_json(raw, strict=True, context={"today": today})
    except ValidationError as exc:
        hidden = _hidden_in(document) if exc.errors()[0]["type"] == "json_invalid" else None
        raise EventError(hidden or _reason(exc)) from None
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
    storable = isinstance(found, str) and 0 < len(found) <= 128 and characters.hidden_character(found) is None
    return found if storable else None


def fingerprint(event: AnyEvent) -> str:
    """What makes two events with one id "the same": their validated content.

    The bytes of `model_dump_json()` (its defaults), taken from the serializer as bytes: the
    same hash without decoding and encoding the text again (issue 18; `tests/test_fingerprints.py`
    holds every type's fingerprint as it was).
    """
    return hashlib.sha256(event.__pydantic_serializer__.to_json(event)).hexdigest()


def _reason(exc: ValidationError) -> Message:
    """A pydantic error as one line a member of staff can act on, as a message of the catalogue."""
    first = exc.errors(include_url=False)[0]
    kind = first["type"]
    if kind == "json_invalid":
        return Message.of("event.not_json", detail=first["msg"].removeprefix("Invalid JSON: "))
    if kind in ("model_type", "model_attributes_type", "dict_type") and not first["loc"]:
        return Message.of("event.not_object")
    if kind == "union_tag_not_found":
        return Message.of("event.field_missing", field="type")
    if kind == "union_tag_invalid":
        return Message.of("event.type_unknown", type=first["input"].get("type")) if isinstance(
            first["input"], dict) else Message.of("event.type_unreadable")
    loc = ".".join(str(p) for p in first["loc"][1:]) or "event"
    if kind == "missing":
        return Message.of("event.field_missing", field=loc)
    if kind == "extra_forbidden":
        return Message.of("event.field_unknown", field=loc)
    if kind == "string_pattern_mismatch" and first["ctx"].get("pattern") == characters.PATTERN:
        return Message.of("event.field", field=loc, reason=characters.hidden_character(first["input"]))
    if kind == "string_pattern_mismatch" and first["ctx"].get("pattern") == characters.PARAGRAPHS_PATTERN:
        return Message.of("event.field", field=loc, reason=characters.hidden_in_paragraphs(first["input"]))
    if kind == "string_pattern_mismatch" and loc == "email":
        return Message.of("event.email", value=first["input"])
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, Refused):
        return Message.of("event.field", field=loc, reason=cause.message)
    return Message.of("event.field_detail", field=loc, detail=first["msg"].removeprefix("Value error, "))


def is_governance(event: AnyEvent) -> bool:
    return event.type in GOVERNANCE_TYPES


def is_bank(event: AnyEvent) -> bool:
    """A statement or a staff's assignment: processed by `ledger.bank_store`, not the member rules."""
    return event.type in BANK_TYPES


def json_schema() -> dict[str, Any]:
    """The JSON Schema of every event (`cae schema`), made from the validators themselves."""
    schema = _ADAPTER.json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "CAE engine event"
    schema["description"] = ("One event of the CAE engine: a JSON object, one per line of a .jsonl "
                             "file or per Kafka message. Amounts are strings with at most 2 decimals, "
                             f"at most {bounds.CEILING} each and for a document's TTC; dates from "
                             f"{bounds.FIRST_DAY} to 31 December of the year after next; a key may appear "
                             "only once in an object.")
    return schema

