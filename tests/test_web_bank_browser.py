"""Issue 16, points 4 and 7, as people use the pages: in a real headless Chromium (Playwright), on a phone's
375 pixels where a person would be on one. The staff upload October's statement, assign a line in one
click and split another; a member and the staff set IBANs, a wrong one refused in French. Screenshots go
to test-artifacts/screenshots/.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.bank_web_support import IBANS, october_statement
from tests.test_web_browser import browser, screenshot, signed_in, site  # noqa: F401 — the fixtures
from tests.web_support import web  # noqa: F401 — the fixture

PHONE = {"width": 375, "height": 812}


def fits(page: Any) -> None:
    """Nothing wider than the screen: no horizontal scrolling."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def within(page: Any, selector: str) -> None:
    """Each of a form's fields, buttons and messages inside the screen, on a page whose other parts
    (the account page's table of tokens) are another matter."""
    for element in page.locator(f"{selector}, {selector} input:not([type=hidden]), {selector} button").all():
        box = element.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], selector


def test_the_staff_upload_a_statement_and_assign_its_lines_on_a_phone(browser: Any, site: str,
                                                                      tmp_path: Path) -> None:
    statement = tmp_path / "releve-octobre.txt"
    statement.write_bytes(october_statement())
    page = signed_in(browser, site, "staff", PHONE)
    page.get_by_role("link", name="Banque").click()
    page.goto(f"{site}/staff/bank?month=2026-10")
    assert page.locator("#waiting").inner_text() == "Aucune ligne bancaire ce mois : importez un relevé."
    form = page.locator("#import")
    form.get_by_label("Fichier du relevé").set_input_files(str(statement))
    form.get_by_role("button", name="Importer").click()
    assert page.locator("#outcome").inner_text() == ("1 relevé(s), 3 ligne(s) lue(s) : 3 nouvelle(s), "
                                                     "0 rapprochée(s) d'elles-mêmes, 3 à affecter.")
    fits(page)
    screenshot(page, "bank-lines-phone")

    named = page.locator("article.bank-line", has_text="VIR F-M002-0001 F-M003-0001")
    named.get_by_role("button", name="Facture F-M002-0001").click()  # one click
    assert page.locator("#outcome").inner_text() == "Ligne affectée."
    named = page.locator("article.bank-line", has_text="VIR F-M002-0001 F-M003-0001")
    assert "Rapprochée par staff@coop.test (web) : facture F-M002-0001" in named.inner_text()

    grouped = page.locator("article.bank-line", has_text="VIR REGLEMENTS GROUPES")
    grouped.locator("summary").click()
    parts = grouped.locator("fieldset")
    parts.nth(0).get_by_label("Facture").fill("F-M003-0001")
    parts.nth(0).get_by_label("Montant").fill("880,00")
    parts.nth(1).get_by_label("Facture").fill("F-M001-0002")
    parts.nth(1).get_by_label("Montant").fill("400,00")
    fits(page)
    grouped.get_by_role("button", name="Affecter").click()
    assert page.locator("#outcome").inner_text() == "Ligne affectée."
    assert "répartie en 2 parts" in page.locator("article.bank-line", has_text="VIR REGLEMENTS GROUPES").inner_text()
    assert page.locator("#waiting").inner_text() == "1 ligne(s) à affecter, en tête de liste."
    fits(page)
    screenshot(page, "bank-lines-assigned-phone")
    page.close()


def test_a_refused_statement_is_said_in_french_on_the_page(browser: Any, site: str, tmp_path: Path) -> None:
    wrong = tmp_path / "releve.txt"
    wrong.write_bytes(october_statement(closing=Decimal("1.00")))
    page = signed_in(browser, site, "staff")
    page.goto(f"{site}/staff/bank?month=2026-10")
    page.locator("#import").get_by_label("Fichier du relevé").set_input_files(str(wrong))
    page.locator("#import").get_by_role("button", name="Importer").click()
    said = page.locator("#outcome").inner_text()
    assert said.startswith("Relevé refusé, rien n'est enregistré : relevé du compte FR7630006000011234567890189 du "
                           "30 septembre 2026 au 31 octobre 2026 ne tombe pas juste")
    assert page.locator("#waiting").inner_text() == "Aucune ligne bancaire ce mois : importez un relevé."
    screenshot(page, "bank-import-refused")
    page.close()


def test_a_member_and_the_staff_set_ibans_on_a_phone(browser: Any, site: str) -> None:
    page = signed_in(browser, site, "member", PHONE)
    page.get_by_role("link", name="Mon compte").click()
    form = page.locator("#iban-form")
    form.get_by_label("Nouvel IBAN").fill("FR76 3000 6000 0112 3456 7890 180")
    form.get_by_role("button", name="Enregistrer mon IBAN").click()
    assert page.locator("#iban-error").inner_text() == (
        "«\u00a0iban\u00a0» : «\u00a0FR76 3000 6000 0112 3456 7890 180\u00a0» n'est pas un IBAN valable (les chiffres de contrôle "
        "ne correspondent pas : une faute de frappe ?)")
    within(page, "#iban-error")
    within(page, "#iban-form")
    page.locator("#iban-form").get_by_label("Nouvel IBAN").fill(IBANS["M001"])
    page.locator("#iban-form").get_by_role("button", name="Enregistrer mon IBAN").click()
    assert IBANS["M001"] in page.locator("#own-iban").inner_text()
    within(page, "#own-iban")
    screenshot(page, "iban-member-phone")
    page.close()

    staff = signed_in(browser, site, "staff", PHONE)
    staff.goto(f"{site}/staff/bank-accounts")
    assert IBANS["M001"] not in staff.content()  # the list masks it
    staff.get_by_role("link", name="M003").click()
    staff.locator("#iban-form").get_by_label("Nouvel IBAN").fill(IBANS["M003"])
    staff.locator("#iban-form").get_by_role("button", name="Enregistrer l'IBAN").click()
    assert IBANS["M003"] in staff.locator("#iban").inner_text()
    fits(staff)
    screenshot(staff, "iban-staff-phone")
    staff.close()


def test_what_clients_owe_fits_a_phone_for_the_staff_and_for_a_member(browser: Any, site: str) -> None:
    staff = signed_in(browser, site, "staff", PHONE)
    staff.goto(f"{site}/staff/bank")
    staff.get_by_role("link", name="Ce que les clients doivent").click()
    staff.goto(f"{site}/staff/receivables?on=2026-12-20")
    assert staff.locator("#receivables tbody tr").count() > 0
    fits(staff)
    screenshot(staff, "receivables-phone")
    staff.close()
    member = signed_in(browser, site, "member", PHONE)
    member.goto(f"{site}/members/M001/statement?month=2026-10")
    member.locator("#unpaid-link").click()
    assert member.get_by_role("heading", name="Mes factures impayées").count() == 1
    member.goto(f"{site}/members/M001/unpaid?on=2026-12-20")
    assert member.locator("#unpaid tbody tr[data-invoice]").count() > 0
    fits(member)
    screenshot(member, "unpaid-member-phone")
    member.close()
