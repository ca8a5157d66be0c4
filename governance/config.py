"""Governance rules as configuration: quorum, majority, proxy limit, with the date they take effect.

The SCOP law (loi n° 78-763) leaves quorum and majority to company law and
the statutes, so they differ between cooperatives; the packaged defaults
(`engine/defaults.toml`, `[[governance]]`) are those of a cooperative SA:
quorum on first / second convocation AGO ⅕ / none (Code de commerce L225-98),
AGE ¼ / ⅕ (L225-96); majority AGO more than half, AGE at least two thirds;
at most one proxy per holder under 20 associates, otherwise a twentieth of
the electorate rounded down (loi 78-763, art. 14).

Rules are dated, like the rates (DOMAIN.md: "each rate and rule is
configuration, with the date it takes effect"): an assembly is counted with
the rules in force on its `held_on` date, so when an AGE amends the statutes
the earlier tallies, recomputed, still give what was proclaimed. A
cooperative's file adds `[[governance]]` blocks; each block says only what
changes from the block before it (the first from the packaged defaults).

A SCIC would add colleges of associates with weights (loi 47-1775 art.
19 octies); they would be one more field here and one more step after the
count of ballots in `governance.tally`, which is why the tally keeps the
ballots it counted.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.config import ConfigError, in_force
from engine.money import MoneyError, parse_amount
from engine.wording import term

KINDS = ("AGO", "AGE")
SHARE_NOMINAL = Decimal("25.00")
# Days a convocation must be sent before the assembly, on first and second convocation, per legal
# form (DOMAIN.md G1): a cooperative SA R225-69, a SARL R223-20 (15 days, whatever the convocation).
CONVOCATION_DAYS: tuple[tuple[str, int, int], ...] = (("SA", 15, 10), ("SARL", 15, 15))
LEGAL_FORM = "SA"
VOTE_DEADLINE_AT = time(15, 0)  # R225-77: electronic forms until the eve of the assembly at 15:00
TIMEZONE = "Europe/Paris"
_MAJORITY = re.compile(r"^(more than|at least) ([0-9]+)/([0-9]+)$")
_FRACTION = re.compile(r"^([0-9]+)(?:/([0-9]+))?$")


@dataclass(frozen=True, slots=True)
class Majority:
    """`for` must be more than (`strict`) or at least `fraction` of the votes for + against."""

    fraction: Fraction
    strict: bool

    def reached(self, votes_for: int, votes_against: int) -> bool:
        """Blank votes and abstentions are not in the base (loi 2019-744); no vote cast, no adoption."""
        base = votes_for + votes_against
        if base == 0:
            return False
        share = Fraction(votes_for, base)
        return share > self.fraction if self.strict else share >= self.fraction

    def __str__(self) -> str:
        return f"{self.fraction.numerator}/{self.fraction.denominator}"


@dataclass(frozen=True, slots=True)
class ProxyLimit:
    """Loi 78-763 art. 14: `floor` proxies under `threshold` associates, else electorate // `divisor`."""

    floor: int = 1
    threshold: int = 20
    divisor: int = 20

    def for_electorate(self, size: int) -> int:
        if size < self.threshold:
            return self.floor
        return max(self.floor, size // self.divisor)


@dataclass(frozen=True, slots=True)
class GovernanceRules:
    """The rules in force from `starts`; `quorums` per kind: (first, second convocation)."""

    starts: date
    quorums: tuple[tuple[str, Fraction, Fraction], ...]
    majorities: tuple[tuple[str, Majority], ...]
    proxy_limit: ProxyLimit
    share_nominal: Decimal = SHARE_NOMINAL  # the nominal value of one share, set by the statutes
    legal_form: str = LEGAL_FORM
    convocation_days: tuple[tuple[str, int, int], ...] = CONVOCATION_DAYS
    vote_deadline_at: time = VOTE_DEADLINE_AT
    timezone: str = TIMEZONE

    def days_required(self, convocation: int) -> int:
        """Days between the sending of the convocation and the assembly (G1), for this legal form."""
        for form, first, second in self.convocation_days:
            if form == self.legal_form:
                return first if convocation == 1 else second
        raise ConfigError(f"no convocation_days configured for the legal form {self.legal_form}")

    def default_vote_deadline(self, held_on: date) -> datetime:
        """Without a `vote_deadline` on the assembly: the eve of `held_on` at `vote_deadline_at`, local."""
        return datetime.combine(held_on - timedelta(days=1), self.vote_deadline_at, tzinfo=ZoneInfo(self.timezone))

    def quorum(self, kind: str, convocation: int) -> Fraction:
        for k, first, second in self.quorums:
            if k == kind:
                return first if convocation == 1 else second
        raise ConfigError(f"no quorum configured for a {kind} assembly")

    def majority(self, kind: str) -> Majority:
        for k, majority in self.majorities:
            if k == kind:
                return majority
        raise ConfigError(f"no majority configured for a {kind} assembly")

    @staticmethod
    def quorum_required(fraction: Fraction, electorate: int) -> int:
        """The smallest whole number of associates that reaches `fraction` of the electorate."""
        return -((-fraction.numerator * electorate) // fraction.denominator)


@dataclass(frozen=True, slots=True)
class GovernanceConfig:
    """Every period of governance rules, oldest first."""

    periods: tuple[GovernanceRules, ...]

    def at(self, day: date) -> GovernanceRules:
        return in_force(self.periods, day, "governance rules")


def _fraction(text: object, where: str) -> Fraction:
    match = _FRACTION.match(text) if isinstance(text, str) else None
    if match is None or (match.group(2) is not None and int(match.group(2)) == 0):
        raise ConfigError(f"{where}: {term(text)} is not a fraction such as \"1/5\" (or \"0\")")
    value = Fraction(int(match.group(1)), int(match.group(2) or 1))
    if value > 1:
        raise ConfigError(f"{where}: {text} is over 1")
    return value


def _majority(text: object, where: str) -> Majority:
    match = _MAJORITY.match(text) if isinstance(text, str) else None
    if match is None or int(match.group(3)) == 0 or int(match.group(2)) > int(match.group(3)):
        raise ConfigError(f"{where}: {term(text)} is not a majority such as \"more than 1/2\" "
                          "or \"at least 2/3\"")
    return Majority(Fraction(int(match.group(2)), int(match.group(3))), match.group(1) == "more than")


def _period(block: dict[str, Any], before: GovernanceRules | None, where: str) -> GovernanceRules:
    starts = block.get("from")
    if not isinstance(starts, date):
        raise ConfigError(f"{where}: 'from' must be a date (such as 2027-01-01)")
    unknown = set(block) - {"from", "quorum", "majority", "proxy_limit", "share_nominal", "legal_form",
                            "convocation_days", "vote_deadline_at", "timezone"}
    if unknown:
        raise ConfigError(f"{where}: unknown key {term(sorted(unknown)[0])}")
    quorums = {k: (f, s) for k, f, s in before.quorums} if before else {}
    for kind, pair in dict(block.get("quorum", {})).items():
        if kind not in KINDS or not isinstance(pair, list) or len(pair) != 2:
            raise ConfigError(f"{where}: quorum.{kind} must be [first, second convocation] "
                              f"for AGO or AGE")
        quorums[kind] = (_fraction(pair[0], f"{where} quorum.{kind}"),
                         _fraction(pair[1], f"{where} quorum.{kind}"))
    majorities = dict(before.majorities) if before else {}
    for kind, text in dict(block.get("majority", {})).items():
        if kind not in KINDS:
            raise ConfigError(f"{where}: majority.{kind}: kinds are AGO and AGE")
        majorities[kind] = _majority(text, f"{where} majority.{kind}")
    limit = before.proxy_limit if before else ProxyLimit()
    if "proxy_limit" in block:
        values = {"floor": limit.floor, "threshold": limit.threshold, "divisor": limit.divisor}
        for key, value in dict(block["proxy_limit"]).items():
            if key not in values or not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{where}: proxy_limit.{key} must be one of floor, threshold, "
                                  "divisor, a whole number from 1")
            values[key] = value
        limit = ProxyLimit(**values)
    missing = [k for k in KINDS if k not in quorums or k not in majorities]
    if missing:
        raise ConfigError(f"{where}: quorum and majority of {missing[0]} are not configured")
    nominal = before.share_nominal if before else SHARE_NOMINAL
    if "share_nominal" in block:
        try:
            nominal = parse_amount(block["share_nominal"]) if isinstance(block["share_nominal"], str) else Decimal(0)
        except MoneyError as exc:
            raise ConfigError(f"{where}: share_nominal: {exc}") from None
        if nominal <= 0:
            raise ConfigError(f"{where}: share_nominal must be a positive amount string such as \"25.00\"")
    return GovernanceRules(starts, tuple((k, *quorums[k]) for k in KINDS),
                           tuple((k, majorities[k]) for k in KINDS), limit, nominal,
                           *_convening(block, before, where))


def _convening(block: dict[str, Any], before: GovernanceRules | None,
               where: str) -> tuple[str, tuple[tuple[str, int, int], ...], time, str]:
    """Legal form, convocation days per form, the vote deadline's time of day and zone (issue 17, G1-G2)."""
    days = {f: (a, b) for f, a, b in (before.convocation_days if before else CONVOCATION_DAYS)}
    for form, pair in dict(block.get("convocation_days", {})).items():
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 365 for n in pair)):
            raise ConfigError(f"{where}: convocation_days.{form} must be [first, second convocation], "
                              "whole numbers of days from 0 to 365")
        days[form] = (pair[0], pair[1])
    form = block.get("legal_form", before.legal_form if before else LEGAL_FORM)
    if not isinstance(form, str) or form not in days:
        raise ConfigError(f"{where}: legal_form {term(form)} has no convocation_days (known: "
                          f"{', '.join(sorted(days))})")
    at = block.get("vote_deadline_at", before.vote_deadline_at if before else VOTE_DEADLINE_AT)
    if not isinstance(at, time) or at.tzinfo is not None:
        raise ConfigError(f"{where}: vote_deadline_at must be a local time such as 15:00:00")
    zone = block.get("timezone", before.timezone if before else TIMEZONE)
    try:
        ZoneInfo(zone if isinstance(zone, str) else "")
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: timezone {term(zone)} is not a time zone such as \"Europe/Paris\"") from None
    return form, tuple((f, a, b) for f, (a, b) in sorted(days.items())), at, zone


def _blocks(text: str, origin: str) -> list[dict[str, Any]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
    blocks = data.get("governance", [])
    if not isinstance(blocks, list):
        raise ConfigError(f"{origin}: governance rules are [[governance]] blocks, each with a 'from' date")
    return blocks


def parse_governance(text: str, origin: str = "configuration",
                     base: GovernanceConfig | None = None) -> GovernanceConfig:
    """The `[[governance]]` blocks of a TOML text, each over the one before (the first over `base`)."""
    blocks = sorted(_blocks(text, origin), key=lambda b: str(b.get("from", "")))
    periods = list(base.periods) if base else []
    for i, block in enumerate(blocks):
        where = f"{origin} [[governance]] #{i + 1}"
        before = periods[-1] if periods else None
        if before is not None and isinstance(block.get("from"), date) and block["from"] <= before.starts:
            periods = [p for p in periods if p.starts < block["from"]]
            before = periods[-1] if periods else before
        periods.append(_period(block, before, where))
    if not periods:
        raise ConfigError(f"{origin}: at least one [[governance]] block is needed")
    return GovernanceConfig(tuple(periods))


def packaged_governance() -> GovernanceConfig:
    text = resources.files("engine").joinpath("defaults.toml").read_text("utf-8")
    return parse_governance(text, "defaults.toml")


def load_governance(path: str | os.PathLike[str] | None = None) -> GovernanceConfig:
    """The packaged rules, then those of `path` (else `$CAE_CONFIG`) over them."""
    defaults = packaged_governance()
    chosen = path or os.environ.get("CAE_CONFIG")
    if not chosen:
        return defaults
    try:
        text = Path(chosen).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read configuration {chosen}: {exc.strerror}") from None
    return parse_governance(text, str(chosen), defaults)
