"""Rule 13's transfers file: pain.001.001.03 that its XSD accepts, one transaction per member."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import sepaxml
import xmlschema
from hypothesis import given
from hypothesis import strategies as st

from engine.payouts import Payee, end_to_end_id
from treasury.pain001 import Debtor, transfers_file

XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


def test_the_month_s_net_pay_as_a_file_the_schema_accepts() -> None:
    payees = [Payee("M001", "Amélie Dûpont-Ça", "FR7630006000011234567890189", Decimal("857.59"),
                    end_to_end_id("2026-10", "M001", 1), "Salaire net octobre 2026"),
              Payee("M002", "Bob O'Neil", "DE89370400440532013000", Decimal("1200.00"),
                    end_to_end_id("2026-10", "M002", 1), "Salaire net octobre 2026")]
    xml = transfers_file(Debtor("CAE Les Ateliers", "FR7610107001011234567890129"), payees, date(2026, 10, 30))
    xmlschema.XMLSchema(str(XSD)).validate(xml.decode())  # raises on any departure from the schema
    root = ElementTree.fromstring(xml)
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == "2057.59"
    txs = root.findall(".//p:CdtTrfTxInf", NS)
    assert [t.findtext("p:PmtId/p:EndToEndId", namespaces=NS) for t in txs] == ["SAL-202610-M001-1",
                                                                                "SAL-202610-M002-1"]
    assert [t.findtext("p:Cdtr/p:Nm", namespaces=NS) for t in txs] == ["Amelie Dupont-Ca", "Bob O'Neil"]
    assert root.findtext(".//p:ReqdExctnDt", namespaces=NS) == "2026-10-30"


ids = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=128)
months = st.sampled_from(["2026-01", "2026-10", "2027-12"])


@given(month=months, member=ids, revision=st.integers(1, 999))
def test_an_end_to_end_id_is_a_short_sepa_reference_stable_per_payslip(month: str, member: str,
                                                                        revision: int) -> None:
    found = end_to_end_id(month, member, revision)
    assert len(found) <= 35 and re.fullmatch(r"[A-Za-z0-9-]+", found)
    assert found == end_to_end_id(month, member, revision)
    assert found != end_to_end_id(month, member, revision + 1)


@given(a=st.tuples(months, ids, st.integers(1, 99)), b=st.tuples(months, ids, st.integers(1, 99)))
def test_two_payslips_never_share_an_end_to_end_id(a: tuple[str, str, int], b: tuple[str, str, int]) -> None:
    if a != b:
        assert end_to_end_id(*a) != end_to_end_id(*b)


def test_the_same_transfers_make_the_same_file_and_others_another() -> None:
    """Issue 16, point 7: the staff's download and `cae payroll transfers` give the same bytes, so the
    file's ids and creation time come from what it pays, not from the clock."""
    debtor = Debtor("CAE Les Ateliers", "FR7610107001011234567890129")
    payees = [Payee("M001", "Amélie Dupont", "FR7630006000011234567890189", Decimal("857.59"),
                    end_to_end_id("2026-10", "M001", 1), "Salaire 2026-10")]
    first = transfers_file(debtor, payees, date(2026, 10, 30))
    assert transfers_file(debtor, payees, date(2026, 10, 30)) == first
    xmlschema.XMLSchema(str(XSD)).validate(first.decode())
    other = transfers_file(debtor, payees, date(2026, 10, 31))
    ids = [ElementTree.fromstring(x).findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=NS)
           for x in (first, other)]
    assert ids[0] != ids[1] and all(len(i or "") <= 35 for i in ids)
    assert ElementTree.fromstring(first).findtext(".//p:GrpHdr/p:CreDtTm", namespaces=NS) == "2026-10-30T00:00:00"
