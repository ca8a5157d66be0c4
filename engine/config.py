"""The cooperative's rates, with the dates they take effect.

Rates are configuration, not constants: CAEs differ (8 to 15 % of margin) and
an assembly may change them. A period starts on the first day of a month so
that a month has one rate and the cumulative posting of rule 3 stays exact;
a document uses the rates of the month it is posted in, so a change never
rewrites a month already posted.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path

from engine.money import MoneyError, parse_rate


class ConfigError(ValueError):
    """A configuration file that cannot be used, with what is wrong in it."""


@dataclass(frozen=True, slots=True)
class Rates:
    starts: date
    contribution: Decimal
    societariat: Decimal
    employer_contributions: Decimal
    employee_contributions: Decimal


@dataclass(frozen=True, slots=True)
class Rules:
    """Every rate period, oldest first."""

    periods: tuple[Rates, ...]

    def at(self, day: date) -> Rates:
        current = None
        for period in self.periods:
            if period.starts <= day:
                current = period
        if current is None:
            raise ConfigError(f"no rates configured for {day.isoformat()}")
        return current


_FIELDS = ("contribution", "societariat", "employer_contributions", "employee_contributions")


def _period(block: dict[str, object], where: str) -> Rates:
    starts = block.get("from")
    if not isinstance(starts, date) or starts.day != 1:
        raise ConfigError(f"{where}: 'from' must be the first day of a month (such as 2027-01-01)")
    values = {}
    for name in _FIELDS:
        text = block.get(name)
        if not isinstance(text, str):
            raise ConfigError(f"{where}: {name!r} must be a decimal string such as \"0.115\"")
        try:
            rate = parse_rate(text)
        except MoneyError as exc:
            raise ConfigError(f"{where}: {name}: {exc}") from None
        if rate >= 1:
            raise ConfigError(f"{where}: {name} {text} is not below 1")
        values[name] = rate
    return Rates(starts=starts, **values)


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


def load_rules(path: str | os.PathLike[str] | None = None) -> Rules:
    """The rules from `path`, else `$CAE_CONFIG`, else the packaged defaults."""
    chosen = path or os.environ.get("CAE_CONFIG")
    if chosen:
        try:
            text = Path(chosen).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read configuration {chosen}: {exc.strerror}") from None
        return parse_rules(text, str(chosen))
    return parse_rules(resources.files("engine").joinpath("defaults.toml").read_text("utf-8"),
                       "defaults.toml")
