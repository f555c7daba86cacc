"""The admin screens in Chromium: each screen's main action, end to end against the app and DynamoDB
Local — release a held order, filter the audit log, enrol and move a partner, publish a plan after a
what-if, set a target in currency units, publish a reward program and a tier program."""
from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from playwright.sync_api import expect

from chalicelib import bootstrap
from tests.browser.test_portal import DESKTOP, browser, clock, server, shoot, sign_in, site  # noqa: F401 - fixtures
from tests.support.helpers import auth, dumps, token
from tests.support.settlement import BONUS_PLAN

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def admin(browser, base: str, tab: str = "", lang: str = "en-US"):  # noqa: F811 - the fixture, passed in
    page = browser.new_context(viewport=DESKTOP, locale=lang).new_page()
    sign_in(page, base, token("admin", subject="root"), f"#/admin/{tab}" if tab else "#/admin")
    return page


def get(program, path: str) -> dict:
    r = program.c.get(path, headers=auth("admin"))
    assert r.status_code == 200, r.body
    return json.loads(r.body)


def usd(minor: int) -> str:
    """How the page writes a US-dollar amount in en-US, from the integer: $1,234.50."""
    return f"${minor // 100:,}.{minor % 100:02d}"


# ---- held orders -------------------------------------------------------------------------------------
def test_an_admin_releases_a_held_order_and_rejects_another_each_with_a_reason(site, browser):
    base, program = site
    program.enrol("EEE", "DDD", email="eve@ring.example")
    for order_id in ("o-ring-1", "o-ring-2"):  # the buyer is EEE itself: a self-referral ring
        r = program.order(order_id, 100_000, customer=f"c-{order_id}", referral_code="EEE", at=program.clock.t,
                          email="eve@ring.example")
        assert json.loads(r.body)["status"] == "held", r.body

    page = admin(browser, base, "holds")
    row = page.locator("tr[data-order=o-ring-1]")
    expect(row).to_contain_text("The buyer is a partner in the commission chain")
    expect(row).to_contain_text(usd(100_000))
    row.get_by_role("button", name="Release").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Release").click()  # no reason yet: the dialog stays open
    expect(dialog).to_be_visible()
    dialog.get_by_label("Reason").fill("siblings, checked by phone")
    dialog.get_by_role("button", name="Release").click()
    expect(page.get_by_text("Released: the commissions will settle.")).to_be_visible()

    page.locator("tr[data-order=o-ring-2]").get_by_role("button", name="Reject").click()
    page.get_by_role("dialog").get_by_label("Reason").fill("same card as the sponsor")
    page.get_by_role("dialog").get_by_role("button", name="Reject").click()
    expect(page.get_by_text("No held orders.")).to_be_visible()  # the queue: what is still held
    page.select_option("#hold-status", "")  # every hold, with the reviewer's reason
    expect(page.locator("tr[data-order=o-ring-2]")).to_contain_text("same card as the sponsor")
    expect(page.locator("tr[data-order=o-ring-1]")).to_contain_text("siblings, checked by phone")
    shoot(page, "admin-holds")

    holds = {h["order_id"]: h for h in get(program, "/admin/holds")["holds"]}
    assert (holds["o-ring-1"]["status"], holds["o-ring-1"]["review_reason"]) == ("released", "siblings, checked by phone")
    assert (holds["o-ring-2"]["status"], holds["o-ring-2"]["review_reason"]) == ("rejected", "same card as the sponsor")

    page.click("#lang")  # the same screen in Chinese
    expect(page.locator("#tab-holds")).to_have_text("暂扣订单")
    page.select_option("#hold-status", "")
    expect(page.locator("tr[data-order=o-ring-1]")).to_contain_text("买家是佣金链中的伙伴")


# ---- the audit log -----------------------------------------------------------------------------------
def test_an_admin_filters_the_audit_log_by_day_actor_and_action(site, browser):
    base, program = site
    assert program.c.post("/admin/partners/P-DDD/status", headers=auth("admin", subject="alice"),
                          body=dumps({"status": "inactive"})).status_code == 200
    page = admin(browser, base, "audit")
    page.fill("#audit-day", "2026-08-10")
    page.fill("#audit-actor", "alice")
    page.click("#audit-filter")
    expect(page.locator("#audit-records tbody tr")).to_have_count(1)
    expect(page.locator("#audit-records tbody tr")).to_have_attribute("data-action", "partner.status")

    page.fill("#audit-actor", "")
    page.fill("#audit-action", "partner")  # the family: the worked program's four enrolments and alice's change
    page.click("#audit-filter")
    expect(page.locator("#audit-records tbody tr")).to_have_count(5)
    shoot(page, "admin-audit")

    page.fill("#audit-action", "Not An Action")
    page.click("#audit-filter")
    expect(page.locator("#audit-error")).to_contain_text("filter")

    page.fill("#audit-action", "")
    page.fill("#audit-day", "2026-08-11")
    page.click("#audit-filter")
    expect(page.get_by_text("No records match.")).to_be_visible()


# ---- partners ----------------------------------------------------------------------------------------
def test_an_admin_enrols_a_partner_then_moves_it_under_another_sponsor(site, browser):
    base, program = site
    page = admin(browser, base)
    page.fill("#enrol-name", "Eve")
    page.fill("#enrol-code", "EEE")
    page.fill("#enrol-sponsor", "DDD")
    page.click("#enrol")
    expect(page.locator("#enrol-result")).to_contain_text("Enrolled P-EEE with code EEE")
    assert get(program, "/partners/P-EEE")["sponsor_id"] == "P-DDD"

    page.fill("#q", "eee")
    page.press("#q", "Enter")
    page.locator("tr[data-partner=P-EEE]").get_by_role("button", name="Move under…").click()
    page.get_by_role("dialog").get_by_label("New sponsor code").fill("AAA")
    page.get_by_role("dialog").get_by_role("button", name="Move under…").click()
    expect(page.get_by_role("dialog")).to_contain_text("Move P-EEE and its whole downline under AAA?")
    page.get_by_role("dialog").get_by_role("button", name="Move under…").click()
    expect(page.get_by_text("Move scheduled")).to_be_visible()
    assert get(program, "/partners/P-EEE")["scheduled"][-1]["sponsor_id"] == "P-AAA"


def test_an_admin_sets_a_target_in_currency_units_and_an_inexact_one_is_refused_before_sending(site, browser):
    base, program = site
    page = admin(browser, base)
    period = page.locator("#target-period").input_value()
    page.fill("#target-partner", "P-DDD")
    expect(page.locator("#target-currency")).to_have_value("USD")  # the bonus currency of the plan in force
    page.fill("#target-amount", "1500.005")
    page.click("#set-target")
    expect(page.locator("#target-result")).to_contain_text("USD has fewer decimals than that.")
    assert bootstrap.uow().settlement.target("P-DDD", period) is None  # nothing was sent

    page.fill("#target-amount", "1500.5")
    page.click("#set-target")
    expect(page.locator("#target-result")).to_contain_text(usd(150_050))
    assert bootstrap.uow().settlement.target("P-DDD", period) == 150_050

    page.select_option("#target-currency", "JPY")
    page.fill("#target-amount", "12.5")
    page.click("#set-target")
    expect(page.locator("#target-result")).to_contain_text("JPY has no decimals.")


# ---- plans -------------------------------------------------------------------------------------------
def half_even(amount_minor: int, bps: int) -> int:
    return int((Decimal(amount_minor) * bps / 10_000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def test_an_admin_previews_a_plan_what_if_then_publishes_it(site, browser):
    base, program = site
    page = admin(browser, base, "plans")
    expect(page.locator("#plan-levels")).to_have_value("10, 5, 2")  # the plan in force, to edit

    page.fill("#plan-levels", "10, x")
    page.click("#plan-preview")
    expect(page.locator(".field-error")).to_contain_text("A rate is a percentage")

    page.fill("#plan-levels", "60, 50")  # more than the order, and no cap: the server refuses it
    page.fill("#plan-cap", "")
    page.click("#plan-preview")
    expect(page.locator("#plan-error")).to_contain_text("levels add up to more than the order")

    page.fill("#plan-levels", "8, 4, 3")
    page.fill("#plan-cap", "20")
    page.fill("#sample-amount", "123.45")
    page.fill("#sample-partner", "P-DDD")
    page.click("#plan-preview")
    # The same order now (10 %, 5 %, 2 %) and under the new plan, level by level: DDD, CCC, BBB.
    for level, (now_bps, new_bps, who) in enumerate([(1000, 800, "P-DDD"), (500, 400, "P-CCC"), (200, 300, "P-BBB")], 1):
        row = page.locator(f"#whatif tr[data-level='{level}']")
        expect(row).to_contain_text(who)
        expect(row.locator("td").nth(3)).to_have_text(usd(half_even(12_345, now_bps)))
        expect(row.locator("td").nth(5)).to_have_text(usd(half_even(12_345, new_bps)))
    shoot(page, "admin-plans-what-if")

    page.click("#plan-publish")
    page.get_by_role("dialog").get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Plan version 2 published")).to_be_visible()
    latest = get(program, "/admin/plans")["plans"][-1]
    assert latest["version"] == 2 and latest["levels_bps"] == [800, 400, 300] and latest["cap_bps"] == 2000
    assert latest["min_payout_minor"] == BONUS_PLAN["min_payout_minor"] and latest["holding_days"] == 10
    assert latest["bonus"]["ladder"] == get(program, "/admin/plans")["plans"][0]["bonus"]["ladder"]  # kept


# ---- reward and tier programs ------------------------------------------------------------------------
def test_an_admin_publishes_a_reward_program_then_a_tier_program_in_currency_units(site, browser):
    base, program = site
    page = admin(browser, base, "programs")
    page.fill("#rp-friend-amount", "10.00")
    page.fill("#rp-min-order", "25.5")
    page.click("#rp-publish")
    expect(page.get_by_text("Program version 1 published")).to_be_visible()
    # The list reloads and draws the forms again from version 1: type into those, not the old ones.
    expect(page.locator("tr[data-tier-version='1']")).to_be_visible()
    first = get(program, "/admin/reward-programs")["programs"][-1]
    assert first["friend_reward"] == {"kind": "coupon", "amount": 1_000} and first["min_order_minor"] == 2_550

    page.fill("#tier-silver-spend", "1200.50")
    page.fill("#tier-silver-discount", "12.5")
    page.click("#tier-publish")
    expect(page.get_by_text("Program version 2 published")).to_be_visible()
    second = get(program, "/admin/reward-programs")["programs"][-1]
    silver = next(r for r in second["tiers"]["rules"] if r["tier"] == "silver")
    assert (silver["min_spend_minor"], silver["discount_bps"]) == (120_050, 1_250)
    assert second["min_order_minor"] == 2_550  # the reward fields carried over
    expect(page.locator("tr[data-tier-version='2']")).to_contain_text(usd(120_050))
    shoot(page, "admin-programs")
