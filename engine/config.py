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

A `[[rates]]` block may also say `budget_basis = "cash"` (DOMAIN.md rule 12:
from that date the payroll caps salaries at the cash budget; `accrual` when
absent). The `[treasury]` table names the cooperative's bank accounts and the
counterparties rule 11 e recognises (CONTRACT.md §5); it is not dated.
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
from typing import Literal, Protocol, TypeVar

from engine import chart
from engine.matching import Counterparty, same_name
from engine.money import MoneyError, parse_amount, parse_rate
from engine.wording import term


class ConfigError(ValueError):
    """A configuration file that cannot be used, with what is wrong in it."""


BudgetBasis = Literal["accrual", "cash"]
BUDGET_BASES = ("accrual", "cash")
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
    budget_basis: BudgetBasis = "accrual"  # DOMAIN.md rule 12: what caps the payroll


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
class Treasury:
    """The bank side of the rules' TOML (CONTRACT.md §5), not dated: names and accounts, not rates.

    `accounts`: the cooperative's names for its bank accounts, by IBAN (an
    account needs none to be taken: its first statement registers it).
    `counterparties`: who rule 11 e recognises, by IBAN or by name, and the
    ledger account their lines go to (URSSAF → 431, the tax office → 44551…).
    """

    accounts: tuple[tuple[str, str], ...] = ()
    counterparties: tuple[Counterparty, ...] = ()

    def account_name(self, iban: str) -> str | None:
        return dict(self.accounts).get(iban)


@dataclass(frozen=True, slots=True)
class Rules:
    """Every rate period, oldest first, and the treasury's configuration."""

    periods: tuple[Rates, ...]
    treasury: Treasury = Treasury()

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
    basis = block.get("budget_basis", "accrual")
    if basis not in BUDGET_BASES:
        raise ConfigError(f"{where}: budget_basis must be \"accrual\" or \"cash\", not {term(str(basis))}")
    return Rates(starts=starts, contribution=flat, contribution_tiers=tiers, smic_hourly=smic,
                 full_time_hours=hours, budget_basis=basis, **values)  # type: ignore[arg-type]


def _treasury(data: object, where: str) -> Treasury:
    """`[treasury]`: `accounts = [{iban, name}]` and `[[treasury.counterparties]]` {name, iban, account, label}."""
    if data is None:
        return Treasury()
    if not isinstance(data, dict) or set(data) - {"accounts", "counterparties"}:
        raise ConfigError(f"{where}: [treasury] knows only 'accounts' and 'counterparties'")
    accounts = []
    for i, block in enumerate(_tables(data.get("accounts", []), f"{where} accounts")):
        here = f"{where} accounts #{i + 1}"
        if set(block) != {"iban", "name"} or not isinstance(block["name"], str) or not block["name"].strip():
            raise ConfigError(f"{here}: give 'iban' and 'name' (a text)")
        accounts.append((_config_iban(block["iban"], here), block["name"].strip()))
    counterparties = []
    for i, block in enumerate(_tables(data.get("counterparties", []), f"{where} counterparties")):
        here = f"{where} counterparties #{i + 1}"
        if set(block) - {"name", "iban", "account", "label"} or not ({"name", "iban"} & set(block)):
            raise ConfigError(f"{here}: give 'name' and/or 'iban', 'account', and optionally 'label'")
        account = block.get("account")
        if account not in chart.ACCOUNTS or account in (chart.BANK, chart.CLIENTS):
            raise ConfigError(f"{here}: account {term(str(account))} is not an account of the chart a bank "
                              f"line can go to (such as 431 or 44551)")
        name = block.get("name")
        if name is not None and (not isinstance(name, str) or not same_name(name)):
            raise ConfigError(f"{here}: name must be a text with letters or digits")
        iban = _config_iban(block["iban"], here) if "iban" in block else None
        label = block.get("label", name or chart.ACCOUNTS[account])
        if not isinstance(label, str) or not label.strip():
            raise ConfigError(f"{here}: label must be a text")
        counterparties.append(Counterparty(account, label.strip(), name, iban))
    if len({iban for iban, _ in accounts}) != len(accounts):
        raise ConfigError(f"{where}: an account is named twice")
    return Treasury(tuple(accounts), tuple(counterparties))


def _tables(value: object, where: str) -> list[dict[str, object]]:
    if not isinstance(value, list) or not all(isinstance(b, dict) for b in value):
        raise ConfigError(f"{where}: a list of tables is expected")
    return value


def _config_iban(value: object, where: str) -> str:
    # Imported here: engine.events brings pydantic and schwifty, a tenth of a second that every
    # `cae` command reading the rates paid, when only a configured bank account needs it (issue 18).
    from engine.events import valid_iban

    try:
        return valid_iban(str(value))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


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
    return Rules(tuple(periods), _treasury(data.get("treasury"), f"{origin} [treasury]"))


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
