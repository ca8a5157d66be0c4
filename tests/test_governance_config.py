"""Governance rules as configuration; the membership view; participation statistics (pure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from engine.config import ConfigError
from governance.config import load_governance, packaged_governance, parse_governance
from governance.membership import add_years, associate_deadline, member_view
from governance.participation import meetings_of, participation
from governance.records import Assembly, Attendance, MemberFacts, Ritual


def test_packaged_rules_are_the_cooperative_sa_defaults() -> None:
    rules = packaged_governance().at(date(2026, 6, 20))
    assert [rules.quorum("AGO", 1), rules.quorum("AGO", 2)] == [Fraction(1, 5), 0]
    assert [rules.quorum("AGE", 1), rules.quorum("AGE", 2)] == [Fraction(1, 4), Fraction(1, 5)]
    assert (str(rules.majority("AGO")), rules.majority("AGO").strict) == ("1/2", True)
    assert (str(rules.majority("AGE")), rules.majority("AGE").strict) == ("2/3", False)
    assert [rules.proxy_limit.for_electorate(n) for n in (5, 19, 20, 39, 40, 10_000)] == [1, 1, 1, 1, 2, 500]


def test_a_cooperative_overrides_only_what_its_statutes_change_from_a_date(tmp_path: Path) -> None:
    path = tmp_path / "coop.toml"
    path.write_text('[[rates]]\nfrom = 2000-01-01\ncontribution = "0.1"\nsocietariat = "0.03"\n'
                    'employer_contributions = "0.42"\nemployee_contributions = "0.22"\n\n'
                    '[[governance]]\nfrom = 2027-01-01\nquorum = { AGO = ["1/3", "1/10"] }\n'
                    'majority = { AGE = "at least 3/4" }\nproxy_limit = { floor = 2 }\n', encoding="utf-8")
    config = load_governance(path)
    before, after = config.at(date(2026, 12, 31)), config.at(date(2027, 1, 1))
    assert before == packaged_governance().at(date(2026, 12, 31))
    assert (after.quorum("AGO", 1), after.quorum("AGO", 2)) == (Fraction(1, 3), Fraction(1, 10))
    assert after.quorum("AGE", 1) == Fraction(1, 4)  # unchanged
    assert str(after.majority("AGE")) == "3/4" and str(after.majority("AGO")) == "1/2"
    assert after.proxy_limit.for_electorate(10) == 2 and after.proxy_limit.divisor == 20


@pytest.mark.parametrize(("block", "message"), [
    ('from = 2027-01-01\nquorum = { AGO = ["1/0", "0"] }', "not a fraction"),
    ('from = 2027-01-01\nquorum = { AGX = ["1/5", "0"] }', "AGO or AGE"),
    ('from = 2027-01-01\nmajority = { AGO = "half" }', "not a majority"),
    ('from = 2027-01-01\nquorum = { AGO = ["3/2", "0"] }', "over 1"),
    ('from = 2027-01-01\nproxy_limit = { floor = 0 }', "whole number"),
    ('from = 2027-01-01\nquorums = {}', "unknown key"),
    ('quorum = { AGO = ["1/5", "0"] }', "'from' must be a date"),
])
def test_bad_governance_configuration_says_what_is_wrong(block: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_governance(f"[[governance]]\n{block}\n", "coop.toml", packaged_governance())


def test_rules_before_the_first_block_are_an_error() -> None:
    with pytest.raises(ConfigError, match="no governance rules"):
        packaged_governance().at(date(1999, 1, 1))


# Membership: Code du travail L7331-3, three years from the CESA, minus the CAPE before it.

def test_associate_deadline_is_three_years_after_the_cesa_minus_the_cape() -> None:
    straight = [(date(2024, 3, 1), "salarie")]
    assert associate_deadline(straight) == (date(2024, 3, 1), date(2027, 3, 1))
    after_cape = [(date(2024, 1, 1), "cape"), (date(2024, 7, 1), "salarie")]
    cesa, by = associate_deadline(after_cape) or (None, None)
    assert cesa == date(2024, 7, 1) and by == date(2027, 1, 1)
    assert associate_deadline([(date(2024, 1, 1), "cape")]) is None
    assert add_years(date(2024, 2, 29), 3) == date(2027, 2, 28)


def test_member_view_counts_days_left_only_for_a_salarie_not_yet_associate() -> None:
    statuses = [(date(2024, 1, 1), "cape"), (date(2024, 7, 1), "salarie")]
    es = MemberFacts("M1", "Alice", date(2024, 1, 1))
    view = member_view(es, statuses, Decimal("0.00"), date(2026, 12, 1))
    assert (view.status, view.associate, view.associate_by, view.days_left) == \
        ("salarie", False, date(2027, 1, 1), 31)
    late = member_view(es, statuses, Decimal("0.00"), date(2027, 1, 11))
    assert late.days_left == -10
    associate = MemberFacts("M1", "Alice", date(2024, 1, 1), associate_on=date(2025, 1, 1))
    view = member_view(associate, statuses, Decimal("120.00"), date(2026, 12, 1))
    assert view.associate and view.days_left is None and view.to_json()["capital"] == "120.00"
    gone = MemberFacts("M1", "Alice", date(2024, 1, 1), left_on=date(2025, 1, 1))
    assert member_view(gone, statuses, Decimal("0"), date(2026, 1, 1)).status == "left"


# Participation: who came over who was expected, per meeting, kind and year, member and kind.

def test_participation_rates_per_year_and_member_and_the_trend() -> None:
    members = {m: MemberFacts(m, m, date(2024, 1, 1), date(2024, 1, 1) if m != "C" else None)
               for m in ("A", "B", "C")}
    members["D"] = MemberFacts("D", "D", date(2026, 1, 1))  # joined in 2026: not expected in 2025
    rituals = [Ritual("U25", "universite", date(2025, 7, 1), "U 2025"),
               Ritual("U26", "universite", date(2026, 7, 1), "U 2026")]
    assemblies = [Assembly("AG26", "AGO", date(2026, 6, 1), 1)]
    attendance = [Attendance(1, "U25", "A", "present"), Attendance(2, "U25", "D", "present"),
                  Attendance(3, "U26", "A", "present"), Attendance(4, "U26", "B", "remote"),
                  Attendance(5, "U26", "C", "excused"), Attendance(6, "U26", "D", "present"),
                  Attendance(7, "AG26", "C", "present"), Attendance(8, "AG26", "A", "present")]
    report = participation(meetings_of(assemblies, rituals), attendance, members)
    years = {(k, y): c for k, y, _, c in report.by_year}
    assert (years[("universite", 2025)].came, years[("universite", 2025)].expected) == (1, 3)
    assert years[("universite", 2025)].guests == 1  # D came before joining
    assert (years[("universite", 2026)].came, years[("universite", 2026)].expected) == (3, 4)
    assert (years[("AGO", 2026)].came, years[("AGO", 2026)].expected, years[("AGO", 2026)].guests) == (1, 2, 1)
    assert report.trend("universite") == Decimal("0.750") - Decimal("0.333")
    per_member = {(m.member_id, k): (c.came, c.expected) for m, k, c in report.by_member}
    assert per_member[("A", "universite")] == (2, 2) and per_member[("D", "universite")] == (1, 1)
    only_2026 = participation(meetings_of(assemblies, rituals), attendance, members,
                              start=date(2026, 1, 1), kinds=["universite"])
    assert [m.meeting_id for m, _ in only_2026.meetings] == ["U26"]
    assert only_2026.to_json()["by_year"][0]["rate"] == "0.750"
