"""The compliance page in a real browser (Chromium through Playwright, as tests/browser/test_portal.py):
finance reads a period's compliance report and a leaderboard, in English and in Chinese."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chalicelib import bootstrap
from chalicelib.services import leaderboards
from tests.browser.test_portal import DESKTOP, browser, clock, server, shoot, sign_in, site  # noqa: F401
from tests.support.helpers import token
from tests.support.program import project_figures

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_finance_reads_the_compliance_report_and_a_masked_leaderboard_in_both_languages(site, browser):  # noqa: F811
    base, program = site  # the worked program: a three-level plan, AAA > BBB > CCC > DDD
    program.sell("cp-1", 100_000, code="DDD", customer="cust-cp1")
    project_figures()
    leaderboards.refresh(bootstrap.uow(), bootstrap.settings().calendar, program.clock.t)

    page = browser.new_context(viewport=DESKTOP, locale="en-US").new_page()
    sign_in(page, base, token("finance", subject="fin"), "#/compliance")
    page.wait_for_selector("#report-period")
    page.select_option("#report-period", "2026-08")
    # The report reads the period's settlement index (256 queries on DynamoDB Local): give it time.
    page.wait_for_selector("#compliance-report tr[data-level='3']", timeout=60_000)
    # DDD sold: DDD earns at level 1, CCC at 2, BBB at 3 (one earner each).
    for level in ("1", "2", "3"):
        expect(page.locator(f"#compliance-report tr[data-level='{level}'] td").nth(1)).to_have_text("1")
    expect(page.locator("#profile")).to_have_text("default")
    expect(page.locator("#recruitment-only")).to_contain_text("0")

    page.select_option("#board-period", "2026-08")
    page.wait_for_selector("text=P-DDD Ddd")
    expect(page.locator("td", has_text="D*").first).to_be_visible()
    shoot(page, "compliance")

    page.click("#lang")  # the page is rendered again, in Chinese, for the periods chosen
    page.wait_for_selector("text=合规报告")
    page.wait_for_selector("#compliance-report tr[data-level='3']", timeout=60_000)
    expect(page.locator("h3", has_text="各层级获酬人数")).to_be_visible()
    page.wait_for_selector("text=P-DDD Ddd")
    shoot(page, "compliance-zh")
