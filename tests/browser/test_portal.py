"""The portal in a real browser: Debian's Chromium, headless, driven by Playwright, against the app
served on 127.0.0.1 with DynamoDB Local behind it."""
from __future__ import annotations

import hashlib
import json
import shutil
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect

from chalicelib import bootstrap
from chalicelib.store.files import FolderFiles
from scripts.dynamodb_local import ROOT, free_port
from tests.support.helpers import auth, token
from tests.support.settlement import AFTER_AUG_LOCK, Clock, Settling

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("the browser tests need Debian's chromium (.ci/run installs it: apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def clock(monkeypatch):
    c = Clock(datetime(2026, 8, 10, 12, tzinfo=timezone.utc))
    monkeypatch.setattr(bootstrap, "now", c)
    return c


@pytest.fixture(scope="module")
def server():
    """The Chalice app on a free loopback port, as `chalice local` (and so `make run`) serves it. It
    reaches storage through the composition root, which each test points at its own table."""
    from chalice.config import Config
    from chalice.local import create_local_server

    from app import app

    original = app.__class__
    port = free_port()
    local = create_local_server(app, Config.create(chalice_app=app, chalice_stage="local"), "127.0.0.1", port)
    thread = threading.Thread(target=local.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    local.shutdown()
    app.__class__ = original  # create_local_server converts the app's class; the next module's server does it again


@pytest.fixture
def site(server, api_local, clock, tmp_path):
    bootstrap.use_files(FolderFiles(tmp_path / "exports"))
    program = Settling(api_local, clock)
    program.worked_program()
    return server, program


def sign_in(page, base: str, bearer: str, hash_: str = "") -> None:
    page.goto(f"{base}/app{hash_}")
    page.fill("#token", bearer)
    page.click("#signin")


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(150)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def test_a_partner_creates_a_link_a_visitor_follows_it_and_the_dashboard_shows_the_pending_commission(site, browser):
    base, program = site
    ctx = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = ctx.new_page()
    sign_in(page, base, token("partner", "P-DDD", "ddd"))
    page.wait_for_selector("#create-link")
    page.fill("#destination", "https://shop.example.com/bags")
    page.click("#create-link")
    link = page.wait_for_selector(".link-url").get_attribute("href")

    visitor = browser.new_context()
    shop = visitor.new_page()
    asked: list[str] = []
    shop.on("request", lambda request: asked.append(request.url))
    try:  # the shop itself is not reachable from this machine; the redirect to it is what counts
        shop.goto(f"{base}{link}")
    except Exception:  # noqa: BLE001 - net::ERR_NAME_NOT_RESOLVED for the shop's host
        pass
    landed = [u for u in asked if u.startswith("https://shop.example.com/bags")]
    assert landed and "upline_click=" in landed[0], asked
    assert any(c["name"] == "upline_click" for c in visitor.cookies(base))
    click_id = landed[0].split("upline_click=")[1]
    visitor.close()

    r = program.order("web-1", 120_00, customer="zoe", at=program.clock.t, click_id=click_id)
    assert r.status_code == 201, r.body
    page.reload()
    page.wait_for_selector("[data-step=clicks] b")
    page.select_option("#period", "2026-08")
    expect(page.locator("[data-step=orders] b")).to_have_text("1")
    expect(page.locator("[data-step=clicks] b")).to_have_text("1")
    expect(page.locator("[data-state=pending]")).to_have_text("$12.00")
    expect(page.locator("[data-step=commissions] b")).to_have_text("$12.00")
    shoot(page, "partner-dashboard")
    ctx.close()


def test_finance_approves_a_batch_made_by_someone_else_and_downloads_its_export(site, browser, tmp_path):
    base, program = site
    program.sell("o1", 6_200_000)
    program.clock.t = AFTER_AUG_LOCK
    assert program.run(period="2026-08", who="finance-1").status_code == 200

    maker = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(maker, base, token("finance", subject="finance-1"), "#/finance/2026-08")
    maker.wait_for_selector("#approve")
    maker.click("#approve")
    expect(maker.locator(".action-error")).to_contain_text("maker-checker")

    page = browser.new_context(viewport=DESKTOP, accept_downloads=True).new_page()
    sign_in(page, base, token("finance", subject="finance-2"), "#/finance/2026-08")
    page.wait_for_selector("#approve:not([disabled])")
    page.click("#approve")
    page.wait_for_selector("text=approved")
    page.click("text=P-DDD")
    page.wait_for_selector("pre.trace")
    shoot(page, "finance-console")
    with page.expect_download() as info:
        page.click("[data-export=summary]")
    saved = tmp_path / "summary.csv"
    info.value.save_as(saved)
    batch = json.loads(program.batch("2026-08")["batch"] and json.dumps(program.batch("2026-08")["batch"]))
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == batch["exports"]["summary"]["sha256"]
    assert batch["status"] == "approved" and batch["approved_by"] == "finance-2"


def test_a_bounce_reported_in_the_console_is_confirmed_by_a_second_person_and_the_partner_sees_it_once(
        site, browser):
    base, program = site
    program.sell("o1", 1_000_000)  # C earns 500.00
    program.clock.t = AFTER_AUG_LOCK
    assert program.run(period="2026-08", who="finance-1").status_code == 200
    assert program.approve("2026-08", "finance-2").status_code == 200
    assert program.c.post("/settlements/2026-08/paid", headers=auth("finance", subject="finance-2"),
                          body=b"{}").status_code == 200

    reporter = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(reporter, base, token("finance", subject="finance-2"), "#/finance/2026-08")
    row = reporter.locator("tr", has_text="P-CCC")
    row.get_by_role("button", name="Payout failed").click()
    asked = reporter.get_by_role("dialog", name="Payout failed")
    asked.get_by_label("Reason").fill("account closed")
    asked.get_by_role("button", name="Payout failed").click()
    expect(row).to_contain_text("Bounce reported")
    row.get_by_role("button", name="Confirm bounce").click()
    expect(reporter.locator(".action-error")).to_contain_text("maker-checker")

    checker = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(checker, base, token("finance", subject="finance-3"), "#/finance/2026-08")
    checker.locator("tr", has_text="P-CCC").get_by_role("button", name="Confirm bounce").click()
    expect(checker.locator("tr", has_text="P-CCC")).to_contain_text("failed")
    shoot(checker, "finance-bounce-confirmed")

    partner = browser.new_context(viewport=DESKTOP, locale="en-US").new_page()
    sign_in(partner, base, token("partner", "P-CCC", "ccc"))
    expect(partner.locator("[data-state=paid]")).to_have_text("$0.00")
    expect(partner.locator("[data-state=pending]")).to_have_text("$500.00")  # owed once: the return
    expect(partner.locator("[data-state=payable]")).to_have_text("$0.00")


def test_a_partner_cannot_open_the_finance_console(site, browser):
    base, _ = site
    page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    page.goto(f"{base}/app")
    assert page.text_content("#signin") == "登录"  # Chinese for a Chinese browser
    page.fill("#token", token("partner", "P-DDD", "ddd"))
    page.click("#signin")
    page.wait_for_selector("#create-link")
    shoot(page, "partner-dashboard-zh")
    page.goto(f"{base}/app#/finance")
    page.wait_for_selector("#forbidden")
    status = page.evaluate("""async () => (await fetch('/settlements', {headers: {Authorization:
        'Bearer ' + sessionStorage.getItem('upline.token')}})).status""")
    assert status == 403
    page.click("#lang")
    page.goto(f"{base}/app#/partner")
    page.wait_for_selector("text=My links")
    shoot(page, "partner-english-after-switch")


def test_admin_pages_render_search_plans_and_targets(site, browser):
    base, _ = site
    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, base, token("admin", subject="root"))
    page.wait_for_selector("#q")
    page.fill("#q", "ccc")
    page.press("#q", "Enter")
    page.wait_for_selector("text=P-CCC Ccc")
    shoot(page, "admin")


def test_a_member_sees_its_invite_tier_and_rewards_and_redeems_points_for_a_coupon(server, api_local, browser,
                                                                                  monkeypatch):
    from tests.support.members import Clock as MemberClock, Members

    m = Members(api_local, MemberClock(monkeypatch))
    m.publish_plan()
    m.publish_rewards()
    ann = m.register("ann")
    bob = m.register("bob", invite_from="ann")
    assert m.buy("bob", "bob-1", 5000, coupon_code=bob["signup"]["friend_reward"]["coupon_code"]).status_code == 201
    m.clock.advance(days=14)  # the friend's order passed its holding period: Ann earned her points

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, server, token("member", subject="sub-ann", member_id=ann["member_id"]))
    expect(page.locator("#invite-code")).to_have_text(ann["invite_code"])
    expect(page.locator("[data-unit=points]")).to_have_text("500")
    expect(page.locator("#tier")).to_contain_text("Normal")
    page.fill("#redeem-amount", "300")
    page.click("#redeem")
    expect(page.locator("[data-unit=points]")).to_have_text("200")
    coupon = m.rewards("ann")["coupons"][0]["code"]
    expect(page.locator("#main")).to_contain_text(coupon)
    shoot(page, "member")
    page.goto(f"{server}/app#/partner")
    page.wait_for_selector("#forbidden")


# ---- sign-in from the URL fragment: only the end of a sign-on this page started (login CSRF) --------

IDP = "https://idp.example/oauth2/authorize"


def minted(role: str = "admin", subject: str = "mallory", **extra) -> str:
    from chalicelib.auth import mint_token

    return mint_token(bootstrap.settings().jwt_secret, role, subject, extra=extra or None)


def seen_bearers(page) -> list[str]:
    """Every bearer token the page sends to the API, as it sends it."""
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.headers.get("authorization", "")))
    return sent


@pytest.fixture
def with_sso(monkeypatch, api_local):
    monkeypatch.setenv("UPLINE_SSO_AUTHORIZE_URL", IDP)
    monkeypatch.setenv("UPLINE_SSO_CLIENT_ID", "portal-client")
    bootstrap.settings.cache_clear()
    yield
    bootstrap.settings.cache_clear()


def test_a_planted_id_token_link_signs_nobody_in(server, api_local, browser):
    planted = minted("admin", "mallory")
    page = browser.new_context(viewport=DESKTOP, locale="en-US").new_page()
    sent = seen_bearers(page)
    page.goto(f"{server}/app#id_token={planted}&token_type=Bearer")
    expect(page.locator("#signin-message")).to_contain_text("did not start that sign-in")
    expect(page.locator("#token")).to_be_visible()
    assert "id_token" not in page.url
    assert page.evaluate("sessionStorage.getItem('upline.token')") is None
    assert not any(planted in b for b in sent), "the planted token reached the API"
    assert page.locator("#signin-sso").count() == 0  # no identity provider configured: no button


def test_a_planted_link_with_a_made_up_state_does_not_replace_the_visitors_own_session(site, browser):
    base, _ = site
    page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    own = token("partner", "P-DDD", "ddd")
    sign_in(page, base, own)
    page.wait_for_selector("#create-link")
    planted = f"id_token={minted('admin', 'mallory', nonce='x')}&state=guessed"
    # into the open page (a same-document link), then as a fresh page load (a link from elsewhere)
    for arrive in (lambda: page.evaluate(f"location.hash = {planted!r}"),
                   lambda: page.goto(f"{base}/app?from=mail#{planted}")):
        page.evaluate("document.getElementById('toast').hidden = true")
        arrive()
        expect(page.locator("#toast")).to_contain_text("已忽略一个登录链接")
        page.wait_for_selector("#create-link")
        assert "id_token" not in page.url
        assert page.evaluate("sessionStorage.getItem('upline.token')") == own
        assert page.locator("nav a").all_text_contents() == ["概览"]  # still the partner's dashboard only


def start_sign_on(page, base: str) -> dict[str, str]:
    """Click single sign-on; the identity provider's page is stood in for. Returns what it was asked."""
    from urllib.parse import parse_qs, urlsplit

    asked: dict[str, str] = {}

    def idp(route):
        asked.update({k: v[0] for k, v in parse_qs(urlsplit(route.request.url).query).items()})
        route.fulfill(status=200, content_type="text/html", body="<p>identity provider</p>")

    page.route(f"{IDP}*", idp)
    page.goto(f"{base}/app")
    page.click("#signin-sso")
    page.wait_for_url(f"{IDP}*")
    return asked


def test_single_sign_on_the_page_started_signs_in_when_state_and_nonce_match(server, with_sso, browser):
    page = browser.new_context(viewport=DESKTOP).new_page()
    asked = start_sign_on(page, server)
    assert asked["client_id"] == "portal-client" and asked["response_type"] == "token"
    assert asked["redirect_uri"] == f"{server}/app" and len(asked["state"]) == len(asked["nonce"]) == 64
    handed = minted("admin", "root", nonce=asked["nonce"])
    page.goto(f"{asked['redirect_uri']}#id_token={handed}&state={asked['state']}&token_type=Bearer")
    page.wait_for_selector("#q")  # the admin page
    assert "id_token" not in page.url
    assert page.evaluate("sessionStorage.getItem('upline.token')") == handed
    assert page.evaluate("sessionStorage.getItem('upline.sso')") is None  # used up


@pytest.mark.parametrize("spoil", ["nonce", "state", "replay"])
def test_a_returned_token_with_another_nonce_or_state_or_a_used_up_sign_on_is_ignored(server, with_sso, browser,
                                                                                      spoil):
    page = browser.new_context(viewport=DESKTOP).new_page()
    asked = start_sign_on(page, server)
    nonce = "0" * 64 if spoil == "nonce" else asked["nonce"]
    state = "0" * 64 if spoil == "state" else asked["state"]
    handed = minted("admin", "root", nonce=nonce)
    if spoil == "replay":  # the sign-on completes once; the same answer a second time is not a sign-on
        page.goto(f"{server}/app#id_token={minted('finance', 'fin', nonce=nonce)}&state={state}")
        page.wait_for_selector("#signout:not([hidden])")
        page.click("#signout")
    page.goto(f"{server}/app#id_token={handed}&state={state}")
    page.wait_for_selector("#signin-message.error")
    assert page.evaluate("sessionStorage.getItem('upline.token')") is None
    assert page.locator("#q").count() == 0


def test_a_terminated_partner_sees_its_earnings_and_payouts_and_no_working_tools(site, browser):
    from tests.support.helpers import auth, dumps

    base, program = site
    r = program.c.post("/admin/partners/P-DDD/status", headers=auth("admin"), body=dumps({"status": "terminated"}))
    assert r.status_code == 200, r.body
    page = browser.new_context(viewport=DESKTOP, locale="en-US").new_page()
    statuses: list[tuple[int, str]] = []
    page.on("response", lambda resp: statuses.append((resp.status, resp.url)))
    sign_in(page, base, token("partner", "P-DDD", "ddd"))
    expect(page.locator("#partner-ended")).to_contain_text("partnership has ended")
    expect(page.locator("section[aria-label='My payouts']")).to_be_visible()
    expect(page.locator("section[aria-label='Earnings'] .state.loading")).to_have_count(0)
    assert page.locator("#create-link").count() == 0 and page.locator("#funnel").count() == 0
    assert [s for s in statuses if s[0] >= 400] == []


def test_the_admin_page_lists_the_shops_and_the_outbound_endpoints_and_replays_a_dead_delivery(site, browser,
                                                                                                monkeypatch):
    from scripts import stream
    from tests.support.outbound import Receiver

    base, program = site
    monkeypatch.setenv("UPLINE_STRIPE_WEBHOOK_SECRETS", "whsec_browser0test")
    bootstrap.settings.cache_clear()
    with Receiver() as receiver:
        r = program.c.post("/admin/webhooks/endpoints", headers=auth("admin"),
                           body=json.dumps({"url": receiver.url, "events": ["partner.enrolled"]}).encode())
        assert r.status_code == 201, r.body
        receiver.secret = json.loads(r.body)["secret"]
        receiver.always_fail = True
        stream.outbound(bootstrap.uow())
        for _ in range(40):  # the worked program's enrolments, retried until they are dead
            if not stream.deliver_due():
                pending = [d for d in json.loads(program.c.get(
                    f"/admin/webhooks/endpoints/{json.loads(r.body)['endpoint_id']}/deliveries?status=pending",
                    headers=auth("admin")).body)["deliveries"]]
                if not pending:
                    break
                program.clock.t = max(datetime.fromisoformat(d["next_at"].replace("Z", "+00:00")) for d in pending)
        receiver.always_fail = False

        page = browser.new_context(viewport=DESKTOP).new_page()
        sign_in(page, base, token("admin", subject="root"))
        shops = page.get_by_role("region", name="Connected shops")
        expect(shops.get_by_role("row", name="Stripe")).to_contain_text("Configured")
        expect(shops.get_by_role("row", name="Shopify")).to_contain_text("Not configured")
        expect(shops.get_by_role("row", name="Stripe")).to_contain_text(f"{base}/integrations/stripe")
        outbound = page.get_by_role("region", name="Outbound webhooks")
        expect(outbound).to_contain_text(receiver.url)
        outbound.get_by_role("button", name="Delivery log").click()
        dead = outbound.get_by_role("row").filter(has_text="dead")
        expect(dead.first).to_be_visible()
        count = dead.count()
        assert count >= 1
        shoot(page, "admin-integrations")
        dead.first.get_by_role("button", name="Replay").click()
        expect(page.get_by_text("Queued again")).to_be_visible()
        expect(outbound.get_by_role("row").filter(has_text="dead")).to_have_count(count - 1)
        stream.deliver_due()
        assert len(list(receiver.accepted())) == 1  # the replayed event, delivered
