"""Issue 10: the pages as people use them, in a real headless Chromium (Debian's, driven by Playwright).

`cae serve` runs in its own process on a free loopback port over the test's
ledger; one browser serves the whole module. The three home pages are saved
as screenshots in `test-artifacts/screenshots/` (CI keeps them). Without
Chromium the tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from engine.french import euros
from tests.conftest import IN_CI, ROOT, SHARED
from tests.web_support import IDENTITIES, PASSWORD, WebLedger, served, web  # noqa: F401 — the fixture

SHOTS = ROOT / "test-artifacts" / "screenshots"
OCTOBER = {s["member_id"]: s for s in json.loads((SHARED / "scenarios/october/expected.json").read_text())["statements"]}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        executable, problem = None, str(exc)
    else:
        problem = "Debian's chromium is not installed"
    if executable is None:
        if IN_CI:
            pytest.fail(f"no browser for the page tests: {problem}")
        pytest.skip(problem)
    with sync_playwright() as playwright:
        found = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield found
        found.close()


@pytest.fixture
def site(web: WebLedger) -> Iterator[str]:
    """`cae serve` over the test's ledger; its base URL."""
    with served(web.db_url) as base:
        yield base


PHONE = {"width": 390, "height": 844}


def signed_in(browser: Any, base: str, identity: str, viewport: dict[str, int] | None = None,
              password: str = PASSWORD) -> Any:
    return logged_in(browser, base, IDENTITIES[identity][0], password, viewport)


def logged_in(browser: Any, base: str, email: str, password: str, viewport: dict[str, int] | None = None) -> Any:
    """A new page of the browser, signed in through the login form."""
    page = browser.new_page(viewport=viewport or {"width": 1280, "height": 900})
    page.goto(f"{base}/login")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state("networkidle")
    return page


def figure(page: Any, name: str) -> str:
    return str(page.locator(f'[data-figure="{name}"]').inner_text()).strip()


def screenshot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_member_reads_their_october_statement(browser: Any, site: str) -> None:
    page = signed_in(browser, site, "member")
    assert "/members/M001/statement" in page.url  # the member's home
    page.goto(f"{site}/members/M001/statement?month=2026-10")
    want = OCTOBER["M001"]
    for name in ("revenue_ht", "vat_collected", "contribution", "societariat", "budget_closing", "capital_total"):
        assert figure(page, name) == euros(Decimal(want[name])), name
    assert figure(page, "gross") == euros(Decimal(want["payroll"]["gross"]))
    assert page.locator("#invoices").get_by_text("F-M001-0001").count() == 1
    screenshot(page, "home-member")
    page.goto(f"{site}/members/M003/statement?month=2026-10")  # another member's: not found, not forbidden
    assert page.get_by_role("heading", name="Introuvable").count() == 1
    page.close()


def test_the_staff_enter_an_invoice_and_see_it_in_the_members_statement(browser: Any, site: str) -> None:
    page = signed_in(browser, site, "staff")
    assert page.url.endswith("/staff")
    screenshot(page, "home-staff")
    page.goto(f"{site}/staff/events/new?type=invoice.issued")
    form = page.locator("#event-form")
    form.get_by_label("Numéro de facture").fill("F-M002-0042")
    form.get_by_label("Membre (identifiant)").fill("M002")
    form.get_by_label("Date").fill("2026-10-20")
    form.get_by_label("Client").fill("Librairie du Port")
    form.get_by_label("Libellé 1").fill("Ateliers d'écriture")
    form.get_by_label("Montant HT 1").fill("1 200,00")
    form.get_by_role("button", name="Enregistrer").click()
    assert page.locator("#outcome").inner_text() == "Enregistré."
    page.goto(f"{site}/members/M002/statement?month=2026-10")
    assert page.locator("#invoices").get_by_text("F-M002-0042").count() == 1
    before = Decimal(OCTOBER["M002"]["revenue_ht"])
    assert figure(page, "revenue_ht") == euros(before + 1200)
    page.close()


def test_the_board_records_a_vote_and_sees_the_tally_change(browser: Any, site: str) -> None:
    page = signed_in(browser, site, "board")
    assert page.url.endswith("/board")
    screenshot(page, "home-board")
    page.goto(f"{site}/assemblies/AG2026")
    propose = page.locator("#propose")
    propose.get_by_label("Résolution").fill("R9")
    propose.get_by_label("Intitulé").fill("Une résolution ajoutée en séance")
    propose.get_by_role("button", name="Proposer").click()
    row = page.locator("#tally-R9")
    assert row.locator('[data-count="for"]').inner_text() == "0"
    vote = page.locator("#vote")
    vote.locator('select[name="resolution_id"]').select_option("R9")
    vote.locator('select[name="member_id"]').select_option("A01")
    vote.locator('select[name="choice"]').select_option("for")
    vote.get_by_role("button", name="Enregistrer le vote").click()
    assert page.locator("#tally-R9").locator('[data-count="for"]').inner_text() == "1"
    page.close()


def test_the_screenshots_of_the_three_homes_are_kept() -> None:
    for name in ("home-member", "home-staff", "home-board"):
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000, name


def test_a_member_downloads_the_statement_as_a_pdf(browser: Any, site: str, tmp_path: Path) -> None:
    page = signed_in(browser, site, "member")
    page.goto(f"{site}/members/M001/statement?month=2026-10")
    with page.expect_download() as download:
        page.get_by_text("PDF de l'état des comptes").click()
    saved = tmp_path / "etat.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    page.close()


def test_a_member_changes_their_password_on_a_phone(browser: Any, site: str) -> None:
    """Issue 14, point 7: the page in French, usable at a phone's width, and the new password works."""
    page = signed_in(browser, site, "member", PHONE)
    page.get_by_role("link", name="Mon compte").click()
    page.get_by_role("link", name="Changer mon mot de passe").click()
    assert page.get_by_role("heading", name="Changer mon mot de passe").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing off the screen
    for label in ("Mot de passe actuel", "Nouveau mot de passe (12 caractères au moins)", "Nouveau mot de passe, encore"):
        box = page.get_by_label(label).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], label
    screenshot(page, "password-form-phone")
    page.get_by_label("Mot de passe actuel").fill(PASSWORD)
    page.get_by_label("Nouveau mot de passe (12 caractères au moins)").fill("un tout nouveau mot de passe")
    page.get_by_label("Nouveau mot de passe, encore").fill("un tout nouveau mot de passe")
    page.get_by_role("button", name="Changer le mot de passe").click()
    assert "Mot de passe changé" in page.locator("#password-changed").inner_text()
    screenshot(page, "password-phone")
    page.get_by_role("button", name="Se déconnecter").click()
    page.close()
    again = signed_in(browser, site, "member", PHONE, password="un tout nouveau mot de passe")
    assert "/members/M001/statement" in again.url
    again.close()
