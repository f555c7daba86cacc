"""The portal's finish, in a real browser: every page of every role in Chinese shows no English from the
catalogue and no untranslated key; axe-core finds no serious or critical violation; every action is
reachable by keyboard; no table is wider than its card at 1280 and 1920 px; the partner's statement
prints; the member sees its way to the next tier; the screenshots docs/portal.md shows are made here."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from chalicelib import bootstrap
from scripts.dynamodb_local import ROOT
from tests.browser.test_portal import browser, clock, server, site  # noqa: F401 - the fixtures
from tests.support.helpers import auth, token
from tests.support.settlement import AFTER_AUG_LOCK

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SHOTS = ROOT / "artifacts" / "screenshots"
DOC_SHOTS = ROOT / "docs" / "img" / "portal"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (375, 1280, 1920)
ROLES = ("partner", "member", "finance", "admin")
# Words that are the same in both languages: the brand, file formats, currencies, shop names.
SAME_IN_BOTH = {"Upline", "CSV", "USD", "JSON", "Stripe", "Shopify", "Webhook", "OK", "UTC"}


# ---- the worlds each role signs in to ------------------------------------------------------------

def partner_world(program):
    """Partner D sells, August is settled, approved by a second person and paid: a statement exists."""
    program.sell("o1", 6_200_000)
    program.clock.t = AFTER_AUG_LOCK
    assert program.run(period="2026-08", who="finance-1").status_code == 200
    assert program.approve("2026-08", "finance-2").status_code == 200
    assert program.c.post("/settlements/2026-08/paid", headers=auth("finance", subject="finance-2"),
                          body=b'{"reason": "bank statement"}').status_code == 200


def member_world(api_local, monkeypatch):
    from tests.support.members import Clock as MemberClock, Members

    m = Members(api_local, MemberClock(monkeypatch, at=AFTER_AUG_LOCK))  # after the partners' August
    m.publish_rewards()
    ann = m.register("ann")
    bob = m.register("bob", invite_from="ann")
    assert m.buy("bob", "bob-1", 5000, coupon_code=bob["signup"]["friend_reward"]["coupon_code"]).status_code == 201
    assert m.buy("ann", "ann-1", 3000).status_code == 201
    m.clock.advance(days=14)  # the friend's order passed its holding period: Ann earned her points
    return m, ann, bob


@pytest.fixture
def world(site, api_local, monkeypatch):
    """Every role's data in one table: a settled, paid August for the partners, and a member who
    invited a friend. Returns the base URL and {role: bearer token}."""
    base, program = site
    partner_world(program)
    _, ann, _ = member_world(api_local, monkeypatch)  # its clock goes on from the partners' one
    tokens = {
        "partner": token("partner", "P-DDD", "ddd"),
        "member": token("member", subject="sub-ann", member_id=ann["member_id"]),
        "finance": token("finance", subject="finance-3"),
        "admin": token("admin", subject="root"),
    }
    return base, tokens, ann


def open_as(browser, base, bearer, *, lang="en", width=1280, csp=True, hash_=""):  # noqa: F811
    ctx = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN" if lang == "zh" else "en-US",
                              bypass_csp=not csp)
    ctx.add_init_script(f"localStorage.setItem('upline.lang', {json.dumps(lang)})")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/app")
    page.fill("#token", bearer)
    page.click("#signin")
    page.wait_for_selector("nav a")
    if hash_:
        page.goto(f"{base}/app{hash_}")
    settle(page)
    page.errors = errors  # type: ignore[attr-defined]
    return page


def settle(page) -> None:
    """Every card has loaded (no spinner left) and the chart, if any, is drawn."""
    page.wait_for_selector("#main h1")
    expect(page.locator("#main .state.loading")).to_have_count(0, timeout=15_000)
    if page.locator("#earnings-chart").count():
        page.wait_for_selector("#earnings-chart canvas")


def pages_of(page) -> list[str]:
    """The role's pages, as its navigation lists them (from /me), plus the views inside them."""
    return [a.get_attribute("href") for a in page.locator("nav a").all()]


EXTRA_VIEWS = {"partner": ["#/partner/statement/2026-08"], "finance": ["#/finance/2026-08"],
               "admin": ["#/finance/2026-08"]}


def every_view(page, role) -> list[str]:
    return pages_of(page) + EXTRA_VIEWS.get(role, [])


def go(page, base, hash_) -> None:
    page.goto(f"{base}/app{hash_}")
    settle(page)


# ---- 4. both languages, completely -----------------------------------------------------------------

FIND_ENGLISH = """() => {
  const cat = window.__i18n;
  const seen = [];
  const visible = (el) => el && el.checkVisibility && el.checkVisibility() && !el.closest("code, .link-url, [translate=no]");
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const n = walker.currentNode;
    const text = n.textContent.trim();
    if (text && visible(n.parentElement)) seen.push(text);
  }
  for (const el of document.querySelectorAll("[placeholder], [aria-label], [title], option, [download]")) {
    if (!visible(el.tagName === "OPTION" ? el.parentElement : el) && !el.hasAttribute("download")) continue;
    for (const a of ["placeholder", "aria-label", "title", "download"]) if (el.getAttribute(a)) seen.push(el.getAttribute(a));
    if (el.tagName === "OPTION") seen.push(el.textContent.trim());
  }
  return { seen, en: cat.en, zh: cat.zh };
}"""


def english_in(texts: list[str], en: dict[str, str], zh: dict[str, str]) -> list[str]:
    """The catalogue's English that shows in `texts`, and keys shown as themselves (untranslated)."""
    found = []
    phrases = set()
    for key, value in en.items():
        if zh.get(key) == value or value in SAME_IN_BOTH:
            continue
        for part in re.split(r"\{\w+\}", value):
            part = part.strip(" :·,.()…—-")
            if len(part) >= 3 and re.search(r"[A-Za-z]{2}", part) and part not in SAME_IN_BOTH:
                phrases.add(part)
    keys = {k for k, v in en.items() if v != k}
    for text in texts:
        for phrase in phrases:
            # a whole word, not part of an identifier (payout.approved, orders/cancelled, tier_changed)
            if re.search(r"(?<![A-Za-z0-9_./])" + re.escape(phrase) + r"(?![A-Za-z0-9_./])", text):
                found.append(f"English {phrase!r} in {text!r}")
        for word in re.findall(r"[a-z][a-z0-9_]+", text):
            if word in keys and ("_" in word or text == word):
                found.append(f"untranslated key {word!r} in {text!r}")
    return found


def test_every_page_of_every_role_in_chinese_shows_no_english_and_no_untranslated_key(world, browser):  # noqa: F811
    base, tokens, _ = world
    problems: list[str] = []
    for role in ROLES:
        page = open_as(browser, base, tokens[role], lang="zh")
        page.evaluate("import('/app/assets/js/core.js').then((m) => { window.__i18n = m.I18N; })")
        page.wait_for_function("window.__i18n !== undefined")
        for view in every_view(page, role):
            go(page, base, view)
            page.evaluate("import('/app/assets/js/core.js').then((m) => { window.__i18n = m.I18N; })")
            page.wait_for_function("window.__i18n !== undefined")
            got = page.evaluate(FIND_ENGLISH)
            assert got["seen"], view
            problems += [f"{role} {view}: {p}" for p in english_in(got["seen"], got["en"], got["zh"])]
        page.context.close()
    assert problems == [], "\n".join(problems)


def test_the_chinese_check_finds_english_and_raw_keys():
    en = {"paid": "Paid", "next": "{n} more to go", "brand": "Upline", "no_links": "No links yet"}
    zh = {"paid": "已支付", "next": "还差 {n}", "brand": "Upline", "no_links": "还没有链接"}
    assert english_in(["状态：已支付", "Upline", "还差 3"], en, zh) == []
    assert english_in(["状态：Paid"], en, zh) == ["English 'Paid' in '状态：Paid'"]
    assert english_in(["3 more to go"], en, zh) == ["English 'more to go' in '3 more to go'"]
    assert english_in(["no_links"], en, zh) == ["untranslated key 'no_links' in 'no_links'"]


# ---- 5. accessibility and layout -------------------------------------------------------------------

def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
      const r = await axe.run(document, { resultTypes: ["violations"] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_axe_finds_no_serious_or_critical_violation_on_any_page_of_any_role(world, browser, lang):  # noqa: F811
    base, tokens, _ = world
    found = []
    for role in ROLES:
        # axe is injected as a script of its own: the test's context lifts the CSP; the app's never does
        page = open_as(browser, base, tokens[role], lang=lang, csp=False)
        for view in every_view(page, role):
            go(page, base, view)
            found += [(role, view, v) for v in axe_violations(page)]
        page.context.close()
    assert found == [], json.dumps(found, indent=1, ensure_ascii=False)


def test_every_action_on_each_roles_main_page_is_reachable_by_keyboard(world, browser):  # noqa: F811
    base, tokens, _ = world
    for role in ROLES:
        page = open_as(browser, base, tokens[role])
        wanted = page.evaluate("""() => {
          const all = [...document.querySelectorAll("a[href], button, input, select, textarea, summary")]
            .filter((el) => el.checkVisibility() && !el.disabled);
          all.forEach((el, i) => el.setAttribute("data-kb", String(i)));
          return all.length;
        }""")
        reached: set[str] = set()
        page.evaluate("document.activeElement && document.activeElement.blur()")
        for _ in range(wanted + 10):
            page.keyboard.press("Tab")
            got = page.evaluate("document.activeElement && document.activeElement.getAttribute('data-kb')")
            if got is not None:
                reached.add(got)
        missed = page.evaluate("""(reached) => [...document.querySelectorAll("[data-kb]")]
            .filter((el) => !reached.includes(el.getAttribute("data-kb"))).map((el) => el.outerHTML.slice(0, 120))""",
                               sorted(reached))
        assert missed == [], (role, missed)
        page.context.close()


def test_a_dialog_is_labelled_keeps_focus_and_esc_cancels_without_acting(world, browser):  # noqa: F811
    base, tokens, _ = world
    page = open_as(browser, base, tokens["admin"], hash_="#/admin")
    page.fill("#q", "ccc")
    page.press("#q", "Enter")
    row = page.get_by_role("row").filter(has_text="P-CCC")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    row.get_by_role("button").last.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    assert dialog.get_attribute("aria-labelledby")
    for _ in range(6):  # focus goes round inside the dialog
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('dialog') !== null")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert sent == []


def overflowing_tables(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll("#main table")]
      .filter((t) => t.checkVisibility())
      .filter((t) => { const box = t.closest(".card, .statement") || t.parentElement;
                       return t.scrollWidth > box.clientWidth + 1 || t.parentElement.scrollWidth > t.parentElement.clientWidth + 1; })
      .map((t) => `${t.scrollWidth}px: ${t.querySelector("tr") ? t.querySelector("tr").innerText.slice(0, 80) : ""}`)""")


def test_no_table_is_cut_off_at_1280_or_1920_px_and_every_main_page_is_shot_at_three_widths(world, browser):  # noqa: F811
    base, tokens, _ = world
    SHOTS.mkdir(parents=True, exist_ok=True)
    clipped = []
    for role in ROLES:
        page = open_as(browser, base, tokens[role])
        views = every_view(page, role)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for view in views:
                go(page, base, view)
                page.wait_for_timeout(100)  # the chart follows its box's new width
                if view == views[0]:
                    page.screenshot(path=str(SHOTS / f"{role}-{width}.png"), full_page=True)
                if width >= 1280:
                    clipped += [(role, width, view, t) for t in overflowing_tables(page)]
        assert page.errors == [], (role, page.errors)
        page.context.close()
    assert clipped == []


# ---- 3. the partner's and member's pages -------------------------------------------------------------

def test_the_partner_reads_a_printable_statement_with_the_plan_rules_and_chromium_prints_it(world, browser):  # noqa: F811
    base, tokens, _ = world
    page = open_as(browser, base, tokens["partner"])
    page.locator("[data-view-statement='2026-08']").click()
    page.wait_for_selector("#plan-rules li")
    settle(page)
    # the rules that applied: D sold directly (level 1 of BONUS_PLAN's levels_bps) and its volume reached
    # the ladder's highest tier it passes
    from tests.support.settlement import BONUS_PLAN, LADDER

    rules = page.locator("#plan-rules li").all_text_contents()
    level1 = BONUS_PLAN["levels_bps"][0] / 100
    assert f"Plan 1: level 1 earns {level1:g}% of the order" in rules, rules
    reached = max((t for t in LADDER if t["threshold_minor"] <= 6_200_000), key=lambda t: t["threshold_minor"])
    threshold = f"${reached['threshold_minor'] // 100:,}.00"
    assert any(r.startswith("Bonus: personal volume $62,000.00 reached the " + threshold) for r in rules), rules
    assert "P-DDD" in page.locator("#statement").inner_text()
    page.emulate_media(media="print")
    assert page.locator("header.bar").is_hidden() and page.locator("#print").is_hidden()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "partner-statement-print.png"), full_page=True)
    pdf = page.pdf(path=str(SHOTS / "partner-statement.pdf"), format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 1
    # and in Chinese
    page.emulate_media(media="screen")
    page.click("#lang")
    page.wait_for_selector("#plan-rules li")
    expect(page.locator("#statement h1")).to_contain_text("对账单")
    page.emulate_media(media="print")
    page.screenshot(path=str(SHOTS / "partner-statement-print-zh.png"), full_page=True)
    page.pdf(path=str(SHOTS / "partner-statement-zh.pdf"), format="A4", print_background=True)


def test_the_partner_sees_codes_with_a_copy_button_and_a_chart_with_month_labels(world, browser):  # noqa: F811
    base, tokens, _ = world
    page = open_as(browser, base, tokens["partner"])
    page.fill("#destination", "https://shop.example.com/bags")
    page.click("#create-link")
    code = page.locator("code.link-code").first
    expect(code).to_have_text(re.compile(r"^[A-Za-z0-9_-]+$"))  # the code, not the whole URL
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name=re.compile("Copy the link for code")).first.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"{base}/r/{code.inner_text()}"
    chart = page.locator("#earnings-chart")
    expect(chart.locator("canvas")).to_have_count(1)
    # the axes are drawn on the canvas; the same months and figures are in the chart's text table
    expect(chart.locator("table th").filter(has_text="Aug 2026")).to_have_count(1)
    legend = chart.locator(".u-legend")
    assert "Pending" in legend.inner_text() and "Paid" in legend.inner_text()
    box = chart.locator(".u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] - 5, box["y"] + box["height"] / 2)  # the last month: August
    expect(legend).to_contain_text("Aug 2026")
    expect(legend).to_contain_text("$7,700.00")  # paid in August: 10% of 62,000.00 plus the 1,500.00 tier


def test_the_member_sees_its_tier_progress_friends_by_masked_name_coupon_expiry_and_point_value(world, browser):  # noqa: F811
    base, tokens, ann = world
    page = open_as(browser, base, tokens["member"])
    bar = page.locator("progress#tier-progress")
    expect(bar).to_be_visible()
    # Ann spent 30.00 of her own; the next tier's threshold comes from the published program
    tier = json.loads(page.evaluate("""async () => JSON.stringify(await (await fetch('/members/' +
        JSON.parse(atob(sessionStorage.getItem('upline.token').split('.')[1].replace(/-/g,'+').replace(/_/g,'/'))).member_id
        + '/tier', {headers: {Authorization: 'Bearer ' + sessionStorage.getItem('upline.token')}})).json())"""))
    spent = tier["activity"]["spend_minor"]
    assert int(bar.get_attribute("value")) == spent
    assert int(bar.get_attribute("max")) == spent + tier["next"]["spend_minor_needed"]
    expect(page.locator("label[for=tier-progress]")).to_contain_text("Toward")
    friend = page.locator(".friend").first
    expect(friend).to_have_text(re.compile(r"^\w\*$"))
    assert ann["member_id"] not in page.locator("#main").inner_text()
    expect(page.locator("#point-worth")).to_have_text("1 point is worth $0.02 off an order.")  # point_value_minor 2
    page.fill("#redeem-amount", "300")
    page.click("#redeem")
    expiry = page.locator("[data-expires]").first
    expect(expiry).not_to_have_text("—")
    assert re.match(r"\d{4}-\d{2}-\d{2}", expiry.get_attribute("data-expires"))


# ---- 6. the screenshots docs/portal.md shows ---------------------------------------------------------

def test_the_docs_screenshots_of_each_roles_main_page_in_each_language_are_made_here(world, browser):  # noqa: F811
    base, tokens, _ = world
    DOC_SHOTS.mkdir(parents=True, exist_ok=True)
    for role in ROLES:
        for lang in ("en", "zh"):
            page = open_as(browser, base, tokens[role], lang=lang)
            page.screenshot(path=str(DOC_SHOTS / f"{role}-{lang}.png"), full_page=True)
            page.context.close()


def test_the_partner_sees_its_own_rank_on_the_leaderboard_and_may_leave_it(site, browser):  # noqa: F811
    """Two partners sell this period; the board is built as the five-minute job builds it. Partner D
    sees itself first of two, the other partner's name masked, and leaves the boards."""
    from chalicelib.services import leaderboards
    from tests.support.program import project_figures

    base, program = site
    program.sell("o1", 300_000)  # D: 3,000.00
    program.sell("o2", 100_000, code="CCC", customer="cust-2")  # C: 1,000.00

    def build():
        project_figures()
        now, cal = bootstrap.now(), bootstrap.settings().calendar
        leaderboards.build(bootstrap.uow(), cal.period_of(now), cal, now)

    build()
    page = open_as(browser, base, token("partner", "P-DDD", "ddd"))
    card = page.get_by_role("region", name="Leaderboard")
    expect(card.locator("#own-rank")).to_have_text("You are number 1 of 2 ($3,000.00).")
    rows = card.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("$1,000.00")
    assert "*" in rows.nth(1).locator("td").nth(1).inner_text()  # the other partner, masked
    card.get_by_role("button", name="Leave the leaderboards").click()
    expect(page.locator("#toast")).to_have_text("You have left the leaderboards.")
    build()
    page.reload()
    expect(page.get_by_role("region", name="Leaderboard").locator("#own-rank")).to_have_text(
        "You are not on this board this period.")
