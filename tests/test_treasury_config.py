"""The treasury's configuration in the rules' TOML (CONTRACT.md §5): budget basis, accounts, counterparties."""

from __future__ import annotations

from datetime import date

import pytest

from engine.config import ConfigError, load_rules, parse_rules
from engine.matching import Counterparty
from tests.ops_support import BASE_RATES

URSSAF_IBAN = "FR7610001000000000000000177"
TREASURY = """
[treasury]
accounts = [{iban = "FR76 3000 6000 0112 3456 7890 189", name = "Compte courant"}]

[[treasury.counterparties]]
name = "URSSAF Ile-de-France"
iban = "FR7610001000000000000000177"
account = "431"

[[treasury.counterparties]]
name = "DGFIP"
account = "44551"
label = "TVA à payer"
"""


def test_counterparties_and_account_names_are_read_with_their_ledger_accounts() -> None:
    rules = parse_rules(BASE_RATES + TREASURY)
    assert rules.treasury.counterparties == (
        Counterparty("431", "URSSAF Ile-de-France", "URSSAF Ile-de-France", URSSAF_IBAN),
        Counterparty("44551", "TVA à payer", "DGFIP", None))
    assert rules.treasury.account_name("FR7630006000011234567890189") == "Compte courant"


def test_the_budget_basis_is_dated_like_the_rates_and_accrual_when_absent() -> None:
    cash = BASE_RATES.replace("2000-01-01", "2027-01-01") + 'budget_basis = "cash"\n'
    rules = parse_rules(BASE_RATES + cash)
    assert rules.at(date(2026, 12, 31)).budget_basis == "accrual"
    assert rules.at(date(2027, 1, 31)).budget_basis == "cash"
    assert load_rules().at(date(2026, 1, 1)).budget_basis == "accrual"  # the packaged defaults
    assert load_rules().treasury.counterparties == ()


@pytest.mark.parametrize(("toml", "words"), [
    (BASE_RATES + 'budget_basis = "cashflow"\n', "budget_basis must be"),
    (TREASURY.replace('"431"', '"512"'), "account .512. is not an account of the chart"),
    (TREASURY.replace('"431"', '"999"'), "account .999. is not"),
    (TREASURY.replace("FR7610001000000000000000177", "FR7610001000000000000000001"), "not a valid IBAN"),
    ("\n[treasury]\nbanks = []\n", "knows only"),
    ('\n[treasury]\n[[treasury.counterparties]]\naccount = "431"\n', "give 'name' and/or 'iban'"),
])
def test_a_treasury_configuration_that_cannot_be_used_says_where_and_why(toml: str, words: str) -> None:
    text = toml if toml.startswith(BASE_RATES) else BASE_RATES + toml
    with pytest.raises(ConfigError, match=words):
        parse_rules(text)
