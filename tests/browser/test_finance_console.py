"""The finance console in a real browser: a finance review from preview to verified exports.

August is settled through the API (10,000.00 sold through D); September's 30,000.00 is sold through
C, so C earns 3,000.00 + its 200.00 ladder bonus, B 1,500.00 and A 600.00 (levels 10 %, 5 %, 2 %)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from tests.browser.test_portal import DESKTOP, browser, clock, server, shoot, sign_in, site  # noqa: F401
from tests.support.helpers import token
from tests.support.settlement import AFTER_AUG_LOCK, AFTER_SEP_LOCK

SLOW = 150_000  # ms: a dry run, a settlement or a regeneration of the exports reads the period's whole
# index (256 queries on DynamoDB Local, on a shared machine); a wait, never a timing assertion

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def in_dialog(page, name: str, reason: str | None = None) -> None:
    asked = page.get_by_role("dialog", name=name)
    if reason is not None:
        asked.get_by_label("Reason").fill(reason)
    asked.get_by_role("button", name=name).click()


def test_a_finance_review_from_preview_to_verified_exports(site, browser):  # noqa: F811
    base, program = site
    program.sell("o1", 1_000_000)
    program.clock.t = AFTER_AUG_LOCK
    assert program.run(period="2026-08", who="finance-1").status_code == 200
    program.clock.t = datetime(2026, 9, 10, tzinfo=timezone.utc)
    program.sell("o2", 3_000_000, code="CCC", customer="cust-2")
    program.clock.t = AFTER_SEP_LOCK

    maker = browser.new_context(viewport=DESKTOP, locale="en-US").new_page()
    sign_in(maker, base, token("finance", subject="finance-1"), "#/finance/2026-09")
    # The periods come from the API: none before the program's first plan (August).
    expect(maker.locator(".batch-link")).to_have_count(3)
    expect(maker.locator(".batch-link[data-period='2026-07']")).to_have_count(0)
    # The preview shows amounts: 3,200.00 + 1,500.00 + 600.00 in USD.
    expect(maker.locator("#preview [data-total=USD]")).to_have_text("$5,300.00", timeout=SLOW)
    shoot(maker, "finance-preview")
    maker.click("#run")
    in_dialog(maker, "Settle")
    row = maker.locator("#payouts tr", has_text="P-CCC")
    expect(row).to_contain_text("$3,200.00", timeout=SLOW)

    # Drill down: the line, its entries, the order, the plan rule that made the commission.
    row.locator("a.drill").click()
    maker.locator("#drill .order-link[data-order=o2]").first.click()
    expect(maker.locator("#order-view")).to_contain_text("plan v1: level 1 at 1000 bps")
    expect(maker.locator("#order-view")).to_contain_text("plan v1: level 3 at 200 bps")

    # Compared with August: A is new, D is missing, and three lines moved past the review threshold.
    compare = maker.locator("#compare")
    expect(compare).to_contain_text("Flagged for a second look (3)", timeout=SLOW)
    expect(compare).to_contain_text("New this period (1)")
    expect(compare).to_contain_text("Missing this period (1)")

    # The maker cannot approve its own batch, and is told why in words.
    maker.click("#approve")
    in_dialog(maker, "Approve", "looked at the totals")
    expect(maker.locator(".action-error")).to_have_text(
        "You prepared or worked on this batch; a second finance user must approve it.")
    shoot(maker, "finance-batch")

    checker = browser.new_context(viewport=DESKTOP, locale="en-US").new_page()
    sign_in(checker, base, token("finance", subject="finance-2"), "#/finance/2026-09")
    checker.wait_for_selector("#approve:not([disabled])")
    checker.click("#approve")
    in_dialog(checker, "Approve", "compared with August; flags explained by the new CCC sale")
    expect(checker.locator("#mark-paid")).to_be_enabled()
    assert program.batch("2026-09")["batch"]["approved_by"] == "finance-2"

    # A payout failed: reported with a reason, nothing moves yet.
    bbb = checker.locator("#payouts tr", has_text="P-BBB")
    bbb.get_by_role("button", name="Payout failed").click()
    in_dialog(checker, "Payout failed", "account closed")
    expect(bbb).to_contain_text("Bounce reported")

    # The exports, regenerated from the ledger, match what was recorded at settlement.
    checker.click("#verify")
    expect(checker.locator("#verify-result")).to_contain_text("All exports match their recorded checksums.",
                                                              timeout=SLOW)
    shoot(checker, "finance-verified")


def test_the_console_says_why_a_period_cannot_be_settled_yet_in_chinese(site, browser):  # noqa: F811
    base, program = site
    program.clock.t = AFTER_SEP_LOCK  # August is due; September waits for it
    page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    sign_in(page, base, token("finance", subject="finance-1"), "#/finance/2026-09")
    blocked = page.locator("#preview .blocked")
    expect(blocked).to_have_attribute("data-blocked", "earlier_period_open", timeout=SLOW)
    expect(blocked).to_contain_text("更早的周期尚未结算")
    expect(page.locator("#run")).to_be_disabled()
