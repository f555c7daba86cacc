"""The analytics page in a real browser (Chromium through Playwright, DynamoDB Local behind the app):
an admin and a finance user see the KPI charts (uPlot, from this origin, under the strict CSP) and
tables in English and in Chinese, pick a period, and download a KPI as CSV."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from chalicelib import bootstrap
from tests.browser.test_portal import DESKTOP, browser, server, shoot, sign_in  # noqa: F401 (fixtures)
from tests.support.helpers import token
from tests.support.members import Clock, Members
from tests.support.program import project_figures

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def month_start(months_back: int) -> datetime:
    now = datetime.now(timezone.utc)
    y, m = divmod(now.year * 12 + now.month - 1 - months_back, 12)
    return datetime(y, m + 1, 1, 12, tzinfo=timezone.utc)


@pytest.fixture
def program(server, api_local, monkeypatch):  # noqa: F811
    """Members joining and ordering over the last three months, taken in from the stream; then the
    app's clock is the real one again (the page's period picker counts back from today)."""
    real = bootstrap.now
    m = Members(api_local, Clock(monkeypatch, month_start(2)))
    m.publish_plan()
    m.publish_rewards(friend_reward={"kind": "points", "amount": 250})
    n = 0
    for week in range(8):
        m.register(f"a{week}", invite_from=f"a{week - 1}" if week else None)
        for who in (f"a{week}", f"a{week // 2}", "guest"):
            n += 1
            assert m.buy(who, f"o{n}", 3000 + 100 * n).status_code == 201
        m.clock.advance(days=7)
    monkeypatch.setattr(bootstrap, "now", real)
    project_figures()
    return server


def open_page(browser, base: str, bearer: str, locale: str = "en-US"):  # noqa: F811
    page = browser.new_context(viewport=DESKTOP, locale=locale, accept_downloads=True).new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    sign_in(page, base, bearer, "#/analytics")
    page.select_option("#an-from", month_start(2).strftime("%Y-%m"))
    page.click("#an-show")
    page.wait_for_selector("#kpi-members table")
    page.wait_for_selector("#chart-members canvas")
    return page, problems


def test_an_admin_sees_the_member_charts_and_tables_in_english_and_downloads_the_csv(program, browser):  # noqa: F811
    page, problems = open_page(browser, program, token("admin", subject="root"))
    assert page.locator("#nav a[href='#/analytics']").inner_text() == "Analytics"
    for chart in ("#chart-weekly", "#chart-repurchase", "#chart-partners", "#chart-rewards"):
        page.wait_for_selector(f"{chart} canvas")
    text = page.inner_text("#kpi-members")
    assert "New members" in text and "Retention by join month" in text and "Lifetime value" in text
    assert page.locator("#kpi-members .retention-row").count() == 3  # one row per month of the period
    with page.expect_download() as got:
        page.click("[data-csv=members]")
    body = open(got.value.path(), encoding="utf-8").read()
    assert body.startswith("table,month,new_members")
    assert not [p for p in problems if "Content Security Policy" in p or "uPlot" in p], problems
    shoot(page, "analytics-en")


def test_finance_sees_the_same_page_in_chinese(program, browser):  # noqa: F811
    page, problems = open_page(browser, program, token("finance", subject="fin"), locale="zh-CN")
    page.wait_for_selector("text=新增会员")
    page.wait_for_selector("#chart-rewards canvas")
    text = page.inner_text("#analytics")
    assert "会员留存率" in text and "复购率" in text and "积分负债" in text
    assert page.locator("#nav a[href='#/analytics']").inner_text() == "数据分析"
    assert not [p for p in problems if "Content Security Policy" in p], problems
    shoot(page, "analytics-zh")


def test_a_period_in_the_future_shows_the_reason_in_the_readers_language(program, browser):  # noqa: F811
    page, _ = open_page(browser, program, token("admin", subject="root"), locale="zh-CN")
    page.evaluate("""() => { const s = document.querySelector('#an-to');
        s.append(new Option('2999-01', '2999-01')); s.value = '2999-01'; }""")
    page.click("#an-show")
    page.wait_for_selector("text=请选择不超过 36 个月且不在未来的周期。")
    assert json.loads(page.evaluate("JSON.stringify(location.hash)")) == "#/analytics"
