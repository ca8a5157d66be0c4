"""Issue 15, point 5: the demo's pages read on a phone (375 px) as on a desk (1280 px), in Chromium.

`cae demo` makes the books and `cae serve` serves them, each in its own
process; the demo's member login and the staff open their pages at both
widths. Each page must show every figure without scrolling sideways (the
document is no wider than the window) and give every field a label; each is
saved as a screenshot in `test-artifacts/screenshots/` (`phone-<page>-<width>.png`),
beside the `*-before.png` ones taken from the code before this point.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.test_web_browser import SHOTS, browser, logged_in  # noqa: F401 — the fixture
from tests.web_support import make_demo, served

WIDTHS = (375, 1280)

# The fields of a page that no label names: an <input>, <select> or <textarea> a reader cannot
# tell apart (hidden fields and buttons aside).
UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(e => !['hidden', 'submit', 'button'].includes(e.type))
  .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))
  .map(e => e.outerHTML)"""

# On a phone a table of lines is a card per row: each cell that shows something says its column's name
# (`data-label`), except a note spanning the row.
UNNAMED = """() => Array.from(document.querySelectorAll('table.lines td:not([data-label]):not([colspan])'))
  .filter(td => td.innerText.trim()).map(td => td.innerText.trim()).slice(0, 5)"""


@dataclass(frozen=True)
class Demo:
    base: str
    member: str
    logins: dict[str, tuple[str, str]]  # role -> (email, password)
    db_url: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    url, member, logins = make_demo(tmp_path_factory.mktemp("phone"))
    with served(url) as base:
        yield Demo(base, member, logins, url)


def open_as(browser: Any, demo: Demo, role: str, width: int) -> Any:
    """A page of Chromium `width` pixels wide, signed in as the demo's `role`."""
    return logged_in(browser, demo.base, *demo.logins[role], {"width": width, "height": 900})


def member_pages(member: str) -> dict[str, str]:
    return {"statement": f"/members/{member}/statement?month=2026-10",
            "year": f"/members/{member}/year?year=2026",
            "payslips": f"/members/{member}/payslips?year=2026",
            "simulate": f"/members/{member}/simulate?month=2026-10&gross=2500,00",
            "assemblies": "/assemblies"}


STAFF_PAGES = {"staff-month": "/staff?month=2026-10", "staff-health": "/staff/health",
               "staff-payroll": "/staff/payroll?month=2026-10", "staff-reconcile": "/staff/reconcile?month=2026-10",
               "staff-runs": "/staff/runs", "staff-deadletters": "/staff/deadletters",
               "staff-close": "/staff/close?month=2026-10", "staff-event": "/staff/events/new"}


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ["member", "staff"])
def test_each_page_fits_the_screen_and_labels_its_fields(browser: Any, demo: Demo, role: str, width: int) -> None:
    page = open_as(browser, demo, role, width)
    pages = member_pages(demo.member) if role == "member" else STAFF_PAGES
    if role == "member":  # and the assembly they were convened to, as the list links it
        page.goto(demo.base + pages["assemblies"])
        pages = {**pages, "assembly": page.locator("#assemblies a").first.get_attribute("href")}
    too_wide, unlabelled, unnamed = {}, {}, {}
    for name, path in pages.items():
        answer = page.goto(demo.base + path)
        assert answer is not None and answer.status == 200, (path, answer and answer.status)
        page.wait_for_load_state("networkidle")
        shoot(page, f"phone-{name}-{width}")
        sizes = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if sizes[0] > sizes[1]:
            too_wide[name] = sizes
        if found := page.evaluate(UNLABELLED):
            unlabelled[name] = found
        if width < 640 and (found := page.evaluate(UNNAMED)):
            unnamed[name] = found
    page.close()
    assert not too_wide, f"wider than the window at {width} px (document, window): {too_wide}"
    assert not unlabelled, f"fields without a label: {unlabelled}"
    assert not unnamed, f"figures on a card without their column's name: {unnamed}"


def test_the_statement_shows_every_figure_on_a_phone(browser: Any, demo: Demo) -> None:
    """Each figure of the month's statement and of its entries lies within the phone's screen."""
    page = open_as(browser, demo, "member", 375)
    page.goto(f"{demo.base}/members/{demo.member}/statement?month=2026-10")
    outside = page.evaluate("""() => Array.from(document.querySelectorAll('main td'))
        .filter(td => td.innerText.trim())
        .filter(td => { const r = td.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth; })
        .map(td => td.innerText.trim())""")
    page.close()
    assert outside == []


def test_a_single_years_participation_chart_starts_at_zero(browser: Any, demo: Demo) -> None:
    """Issue 15, point 7: the demo's rituals are all of 2026; one point per kind must not draw an axis
    that starts at that point, as if nobody came below it. The rates read in French."""
    page = open_as(browser, demo, "board", 1280)
    page.goto(f"{demo.base}/board/participation")
    page.wait_for_load_state("networkidle")
    axis = page.evaluate("(() => { const c = Chart.getChart(document.getElementById('participation-chart'));"
                         " return [c.data.labels, c.scales.y.min, c.data.datasets.map(d => d.label)]; })()")
    shoot(page, "phone-participation-1280")
    page.close()
    assert axis[0] == ["2026"] and axis[1] == 0, axis
    assert "université" in axis[2], axis
