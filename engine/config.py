"""The cooperative's rates, with the dates they take effect.

Rates are configuration, not constants: CAEs differ (8 to 15 % of margin) and
an assembly may change them. A period starts on the first day of a month so
that a month has one rate and the cumulative posting of rule 3 stays exact;
a document uses the rates of the month it is posted in, so a change never
rewrites a month already posted.

The contribution is either a flat rate on the month's margin (`contribution`)
or a scale of tiers on the member's cumulative margin since the start of the
fiscal year (`contribution_tiers`, marginal like an income-tax scale: 10 % of
the first 35,000 €, 8 % of the next 10,000 €, 6 % above), as some CAEs'
contracts set it (DOMAIN.md: "some with tiers by yearly revenue").
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Protocol, TypeVar

from engine.money import MoneyError, parse_amount, parse_rate
from engine.wording import term


class ConfigError(ValueError):
    """A configuration file that cannot be used, with what is wrong in it."""


FULL_TIME_HOURS = Decimal("151.67")  # 35 h a week, monthly (Code du travail L3121-27)


@dataclass(frozen=True, slots=True)
class Tier:
    """`rate` on the part of the year's base up to `up_to` (None: everything above the last bound)."""

    up_to: Decimal | None
    rate: Decimal


@dataclass(frozen=True, slots=True)
class Rates:
    """One period's rates. With `contribution_tiers`, `contribution` is unused (zero)."""

    starts: date
    contribution: Decimal
    societariat: Decimal
    employer_contributions: Decimal
    employee_contributions: Decimal
    contribution_tiers: tuple[Tier, ...] = ()
    smic_hourly: Decimal | None = None  # for the payroll export's hours basis
    full_time_hours: Decimal = FULL_TIME_HOURS


class Dated(Protocol):
    @property
    def starts(self) -> date: ...


D = TypeVar("D", bound=Dated)


def in_force(periods: Sequence[D], day: date, what: str) -> D:
    """The period in force on `day`: the last to start on or before it (periods oldest first)."""
    current = None
    for period in periods:
        if period.starts <= day:
            current = period
    if current is None:
        raise ConfigError(f"no {what} configured for {day.isoformat()}")
    return current


@dataclass(frozen=True, slots=True)
class Rules:
    """Every rate period, oldest first."""

    periods: tuple[Rates, ...]

    @property
    def tiered(self) -> bool:
        """Whether any period counts the contribution on the year's cumulative base."""
        return any(p.contribution_tiers for p in self.periods)

    def at(self, day: date) -> Rates:
        return in_force(self.periods, day, "rates")


_FIELDS = ("societariat", "employer_contributions", "employee_contributions")


def _rate(block: dict[str, object], name: str, where: str) -> Decimal:
    text = block.get(name)
    if not isinstance(text, str):
        raise ConfigError(f"{where}: {term(name)} must be a decimal string such as \"0.115\"")
    try:
        rate = parse_rate(text)
    except MoneyError as exc:
        raise ConfigError(f"{where}: {name}: {exc}") from None
    if rate >= 1:
        raise ConfigError(f"{where}: {name} {text} is not below 1")
    return rate


def _amount(text: object, name: str, where: str) -> Decimal:
    if not isinstance(text, str):
        raise ConfigError(f"{where}: {term(name)} must be an amount string such as \"35000\"")
    try:
        return parse_amount(text)
    except MoneyError as exc:
        raise ConfigError(f"{where}: {name}: {exc}") from None


def _tiers(blocks: object, where: str) -> tuple[Tier, ...]:
    """`[{up_to = "35000", rate = "0.10"}, …, {rate = "0.06"}]`: bounds rising, the last one open."""
    if not isinstance(blocks, list) or not blocks or not all(isinstance(b, dict) for b in blocks):
        raise ConfigError(f"{where}: contribution_tiers must be a list of {{up_to, rate}} tables")
    tiers: list[Tier] = []
    for i, block in enumerate(blocks):
        here = f"{where} contribution_tiers #{i + 1}"
        last = i == len(blocks) - 1
        if set(block) - {"up_to", "rate"}:
            raise ConfigError(f"{here}: only 'up_to' and 'rate' are known")
        if last and "up_to" in block:
            raise ConfigError(f"{here}: the last tier has no 'up_to': it takes everything above")
        up_to = None if last else _amount(block.get("up_to"), "up_to", here)
        if up_to is not None and tiers and up_to <= (tiers[-1].up_to or 0):
            raise ConfigError(f"{here}: up_to {up_to} is not above the tier before it")
        if up_to is not None and up_to <= 0:
            raise ConfigError(f"{here}: up_to must be positive")
        tiers.append(Tier(up_to, _rate(block, "rate", here)))
    return tuple(tiers)


def _period(block: dict[str, object], where: str) -> Rates:
    starts = block.get("from")
    if not isinstance(starts, date) or starts.day != 1:
        raise ConfigError(f"{where}: 'from' must be the first day of a month (such as 2027-01-01)")
    values = {name: _rate(block, name, where) for name in _FIELDS}
    if ("contribution" in block) == ("contribution_tiers" in block):
        raise ConfigError(f"{where}: give either 'contribution' (a flat rate) or 'contribution_tiers'")
    tiers = _tiers(block["contribution_tiers"], where) if "contribution_tiers" in block else ()
    flat = _rate(block, "contribution", where) if not tiers else Decimal(0)
    smic = _amount(block["smic_hourly"], "smic_hourly", where) if "smic_hourly" in block else None
    hours = (_amount(block["full_time_hours"], "full_time_hours", where)
             if "full_time_hours" in block else FULL_TIME_HOURS)
    return Rates(starts=starts, contribution=flat, contribution_tiers=tiers, smic_hourly=smic,
                 full_time_hours=hours, **values)


def parse_rules(text: str, origin: str = "configuration") -> Rules:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
    blocks = data.get("rates")
    if not isinstance(blocks, list) or not blocks:
        raise ConfigError(f"{origin}: at least one [[rates]] block is needed")
    periods = sorted((_period(b, f"{origin} [[rates]] #{i + 1}") for i, b in enumerate(blocks)),
                     key=lambda p: p.starts)
    if len({p.starts for p in periods}) != len(periods):
        raise ConfigError(f"{origin}: two [[rates]] blocks start on the same date")
    return Rules(tuple(periods))


def read_config(path: str | os.PathLike[str] | None = None) -> tuple[str, str]:
    """(text, name) of the configuration: `path`, else `$CAE_CONFIG`, else the packaged defaults."""
    chosen = path or os.environ.get("CAE_CONFIG")
    if chosen:
        try:
            return Path(chosen).read_text(encoding="utf-8"), str(chosen)
        except OSError as exc:
            raise ConfigError(f"cannot read configuration {chosen}: {exc.strerror}") from None
    return resources.files("engine").joinpath("defaults.toml").read_text("utf-8"), "defaults.toml"


def load_rules(path: str | os.PathLike[str] | None = None) -> Rules:
    """The rules from `path`, else `$CAE_CONFIG`, else the packaged defaults."""
    return parse_rules(*read_config(path))
