"""Abuse limits and fraud holds: a click flood from one IP is limited (and de-duplicated) in the
click's one write, sign-ups per IP are limited, and a self-referral ring, a too-fast order or a
partner refunding too much is held for review instead of paid until an admin releases it."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.domain import fraud
from chalicelib.domain.errors import TooManyRequests
from chalicelib.services import links as link_svc
from chalicelib.store import keys
from chalicelib.store.files import FolderFiles
from tests.support.helpers import DynamoCalls, auth, dumps
from tests.support.program import Program, ledger_items, project_figures, sale_postings, table_snapshot
from tests.support.settlement import AFTER_AUG_LOCK, AFTER_SEP_LOCK, Clock, Settling

UTC = timezone.utc
PLAN = {"levels_bps": [1000, 500, 200], "cap_bps": 2000, "holding_days": 10, "min_payout_minor": 100,
        "effective_from": "2026-08-01T00:00:00Z"}


def configure(monkeypatch, **env: str) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    bootstrap.settings.cache_clear()


@pytest.fixture
def clock(monkeypatch):
    c = Clock(datetime(2026, 8, 10, 12, tzinfo=UTC))
    monkeypatch.setattr(bootstrap, "now", c)
    return c


# ---- clicks -------------------------------------------------------------------------------------
def test_a_click_flood_from_one_ip_is_deduplicated_then_limited_and_writes_one_item(api, monkeypatch):
    configure(monkeypatch, UPLINE_CLICK_LIMIT="5")
    p = Program(api)
    p.enrol("FLOOD")
    code = p.link("FLOOD")
    ids = {p.follow(code) for _ in range(5)}
    assert len(ids) == 1  # one visitor, one link, one window: one click
    calls = DynamoCalls(bootstrap.table().client)
    flood = [api.http.get(f"/r/{code}") for _ in range(20)]
    assert {r.status_code for r in flood} == {429}
    assert all(int(r.headers["Retry-After"]) > 0 for r in flood)
    assert calls.reads == 0 and calls.ops == {"UpdateItem": 20}  # refused in the same one write
    clicks = [i for i in table_snapshot() if i["PK"].startswith("CLICK#")]
    assert len(clicks) == 1 and clicks[0]["hits"] == 5
    r = api.http.get("/partners/P-FLOOD/clicks", headers=auth("partner", "P-FLOOD"))
    assert len(json.loads(r.body)["clicks"]) == 1


def test_another_ip_or_the_next_window_is_not_limited_by_a_flood(api, monkeypatch, clock):
    configure(monkeypatch, UPLINE_CLICK_LIMIT="2")
    p = Program(api)
    p.enrol("WIN")
    code = p.link("WIN")
    uow, s = bootstrap.uow(), bootstrap.settings()

    def follow(ip: str):
        return link_svc.follow(uow, code, f"ip-{ip}", "ua", s.default_destination, clock(), s.click_ttl,
                               pepper=s.hash_pepper, limit=2, window_seconds=s.click_window_seconds)

    _, a_click = follow("a")
    follow("a")
    with pytest.raises(TooManyRequests):
        follow("a")
    _, b_click = follow("b")  # another address has its own budget and its own click
    assert b_click != a_click and follow("b")[1] == b_click
    clock.t += timedelta(seconds=s.click_window_seconds)
    location, click_id = follow("a")
    assert "upline_click=" + click_id in location


def test_the_click_id_is_a_keyed_hash_and_reveals_no_ip(api):
    p = Program(api)
    p.enrol("PRIV")
    click_id = p.follow(p.link("PRIV"))
    item = bootstrap.table().get(keys.click(click_id))
    assert "127.0.0.1" not in json.dumps(item)
    assert item["ip_hash"] != "127.0.0.1" and len(item["ip_hash"]) == 40


# ---- sign-ups -----------------------------------------------------------------------------------
def test_sign_ups_from_one_ip_are_limited_and_a_refused_one_writes_nothing(api, monkeypatch):
    configure(monkeypatch, UPLINE_SIGNUP_LIMIT="3")
    p = Program(api)
    bad = api.http.post("/partners", headers=auth("admin"), body=dumps({"name": "X", "sponsor_code": "NOPE"}))
    assert bad.status_code == 422  # a refused sign-up does not use up the budget
    for code in ("SU1", "SU2", "SU3"):
        p.enrol(code)
    before = table_snapshot()
    r = api.http.post("/partners", headers=auth("admin"), body=dumps({"name": "Four", "code": "SU4"}))
    assert r.status_code == 429 and json.loads(r.body)["error"]["code"] == "rate_limited"
    assert table_snapshot() == before


# ---- fraud holds --------------------------------------------------------------------------------
@pytest.fixture
def ring(api, clock, tmp_path):
    """AAA at the top enrols with its email, phone and card; DDD is three levels below it."""
    bootstrap.use_files(FolderFiles(tmp_path / "exports"))
    s = Settling(api, clock)
    s.publish_plan(PLAN)
    s.enrol("AAA", email="Boss@Ring.example", phone="+1 555 0100", payment_fingerprint="card_fp_0001")
    s.enrol("BBB", "AAA")
    s.enrol("CCC", "BBB")
    s.enrol("DDD", "CCC")
    return s


@pytest.mark.parametrize("identity", [{"email": "boss@ring.example "}, {"phone": "+1 (555) 0100"},
                                      {"payment_fingerprint": "card_fp_0001"}])
def test_an_order_by_a_partner_up_the_chain_is_held_for_review(ring, identity):
    r = ring.order("o-ring", 200_000, customer="someone-else", referral_code="DDD", at=ring.clock.t, **identity)
    assert r.status_code == 201, r.body
    body = json.loads(r.body)
    assert body["status"] == "held" and body["hold"] == [fraud.RING]
    held = [i for i in ledger_items() if i["order_id"] == "o-ring"]
    assert len(held) == 3 and {i["settles_in"] for i in held} == {keys.HOLD_MARKER}
    mine = ring.commissions("DDD")
    assert {e["state"] for e in mine["entries"]} == {"held"}
    assert mine["totals"]["USD"]["held"] == 20_000 and mine["totals"]["USD"]["pending"] == 0
    holds = json.loads(ring.c.get("/admin/holds", headers=auth("admin")).body)["holds"]
    assert [(h["order_id"], h["status"], h["reasons"]) for h in holds] == [("o-ring", "held", [fraud.RING])]


def test_the_order_path_stays_two_reads_and_one_write_with_the_fraud_checks(ring):
    calls = DynamoCalls(bootstrap.table().client)
    ring.order("o-ring", 200_000, customer="x", referral_code="DDD", at=ring.clock.t, email="boss@ring.example")
    assert calls.reads <= 2 and calls.writes == 1, calls.ops


def test_a_held_order_is_not_paid_until_released_then_it_settles_like_any_other(ring):
    ring.order("o-ok", 100_000, customer="honest", referral_code="DDD", at=ring.clock.t)
    ring.order("o-ring", 200_000, customer="x", referral_code="DDD", at=ring.clock.t, email="boss@ring.example")
    ring.clock.t = AFTER_AUG_LOCK
    assert ring.run("2026-08").status_code == 200
    assert ring.lines("2026-08")["P-DDD/USD"]["commissions_minor"] == 10_000  # only the honest order
    assert ring.batch("2026-08")["batch"]["status"] == "draft"  # and it reconciles
    assert volume("DDD", "2026-08") == 100_000  # the held order counts towards no bonus

    ring.clock.t = datetime(2026, 9, 10, tzinfo=UTC)
    r = ring.c.post("/admin/holds/o-ring/release", headers=auth("admin", subject="reviewer"), body=b"{}")
    assert r.status_code == 200, r.body
    released = json.loads(r.body)["entries"]
    assert sorted(e["amount_minor"] for e in released) == [4_000, 10_000, 20_000]
    assert {e["settles_in"] for e in released} == {"2026-09"}
    assert volume("DDD", "2026-09") == 200_000  # released: its sales count from now
    again = ring.c.post("/admin/holds/o-ring/release", headers=auth("admin"), body=b"{}")
    assert again.status_code == 409  # released once only
    assert {e["state"] for e in ring.commissions("DDD")["entries"] if e["order_id"] == "o-ring"} == \
        {"released", "pending"}  # the release entries settle with September, which locks in October

    ring.clock.t = AFTER_SEP_LOCK
    assert ring.run("2026-09").status_code == 200
    assert ring.lines("2026-09")["P-DDD/USD"]["commissions_minor"] == 20_000
    assert ring.batch("2026-09")["batch"]["status"] == "draft"


def volume(code: str, period: str) -> int:
    """What counts towards the partner's bonuses in `period`: its sale postings (what settlement sums)."""
    return sum(i["sale_minor"] for i in sale_postings()
               if i["sale_partner"] == f"P-{code}" and i["sale_period"] == period and i["sale_currency"] == "USD")


def test_a_refund_before_release_shrinks_what_is_released_and_a_refund_after_claws_back(ring):
    ring.order("o-ring", 200_000, customer="x", referral_code="DDD", at=ring.clock.t, email="boss@ring.example")
    ring.clock.t += timedelta(days=1)
    assert ring.refund("o-ring", "r1", 50_000, at=ring.clock.t).status_code == 201
    reversal = [i for i in ledger_items() if i.get("refund_id") == "r1"]
    assert {i["settles_in"] for i in reversal} == {keys.HOLD_MARKER}  # the reversal of a held entry is held too
    r = ring.c.post("/admin/holds/o-ring/release", headers=auth("admin"), body=b"{}")
    by_level = {e["releases"]: e["amount_minor"] for e in json.loads(r.body)["entries"]}
    assert by_level == {"o-ring#L1": 15_000, "o-ring#L2": 7_500, "o-ring#L3": 3_000}
    ring.clock.t += timedelta(days=1)
    assert ring.refund("o-ring", "r2", 50_000, at=ring.clock.t).status_code == 201
    late = [i for i in ledger_items() if i.get("refund_id") == "r2"]
    assert keys.HOLD_MARKER not in {i["settles_in"] for i in late}  # now it claws back normally
    # Volume: nothing while held (the early refund took nothing off), 150,000 at release, less 50,000.
    assert volume("DDD", "2026-08") == 150_000 - 50_000


def test_a_rejected_hold_is_never_paid_and_cannot_be_released(ring):
    ring.order("o-ring", 200_000, customer="x", referral_code="DDD", at=ring.clock.t, email="boss@ring.example")
    r = ring.c.post("/admin/holds/o-ring/reject", headers=auth("admin"), body=dumps({"reason": "a ring"}))
    assert r.status_code == 200
    assert ring.c.post("/admin/holds/o-ring/release", headers=auth("admin"), body=b"{}").status_code == 409
    assert {i["settles_in"] for i in ledger_items() if i["order_id"] == "o-ring"} == {keys.HOLD_MARKER}


def test_an_order_too_soon_after_its_click_is_held_and_a_later_one_is_paid(ring, monkeypatch):
    configure(monkeypatch, UPLINE_FRAUD_MIN_CLICK_SECONDS="30")
    click = ring.follow(ring.link("DDD"))
    fast = json.loads(ring.order("o-fast", 10_000, customer="c1", click_id=click, at=ring.clock.t + timedelta(seconds=3)).body)
    assert fast["status"] == "held" and fast["hold"] == [fraud.FAST_ORDER]
    slow = json.loads(ring.order("o-slow", 10_000, customer="c2", click_id=click,
                                 at=ring.clock.t + timedelta(minutes=2)).body)
    assert slow["status"] == "attributed"


def test_a_partner_whose_orders_are_mostly_refunded_has_its_next_order_held(ring, monkeypatch):
    configure(monkeypatch, UPLINE_FRAUD_REFUND_RATE_BPS="5000", UPLINE_FRAUD_REFUND_MIN_SALES_MINOR="10000")
    for i in range(2):
        assert ring.order(f"o{i}", 100_000, customer=f"c{i}", referral_code="DDD", at=ring.clock.t).status_code == 201
        assert ring.refund(f"o{i}", "r", 100_000, at=ring.clock.t + timedelta(minutes=1)).status_code == 201
    project_figures()  # the partner's figures come from the ledger's stream, moments after the writes
    nxt = json.loads(ring.order("o-next", 100_000, customer="c9", referral_code="DDD", at=ring.clock.t).body)
    assert nxt["status"] == "held" and nxt["hold"] == [fraud.REFUNDS]


def test_only_admins_release_and_finance_may_list_holds(ring):
    ring.order("o-ring", 200_000, customer="x", referral_code="DDD", at=ring.clock.t, email="boss@ring.example")
    assert ring.c.post("/admin/holds/o-ring/release", headers=auth("finance"), body=b"{}").status_code == 403
    assert ring.c.post("/admin/holds/o-ring/release", headers=auth("partner", "P-DDD"), body=b"{}").status_code == 403
    assert ring.c.get("/admin/holds", headers=auth("finance")).status_code == 200


def test_fraud_rules_are_pure_and_each_signal_stands_alone():
    t = datetime(2026, 8, 1, tzinfo=UTC)
    rules = fraud.FraudRules(timedelta(seconds=30), 5000, 10_000)
    clean = dict(buyer_is_partner=[], chain=["P-A"], clicked_at=t, ordered_at=t + timedelta(minutes=5),
                 counters={}, currency="USD")
    assert fraud.assess(rules, **clean) == []
    assert fraud.assess(rules, **{**clean, "buyer_is_partner": ["P-A"]}) == [fraud.RING]
    assert fraud.assess(rules, **{**clean, "buyer_is_partner": ["P-Z"]}) == []
    assert fraud.assess(rules, **{**clean, "ordered_at": t + timedelta(seconds=29)}) == [fraud.FAST_ORDER]
    many = {"credited_USD": 20_000, "reversed_USD": 10_001}
    assert fraud.assess(rules, **{**clean, "counters": many}) == [fraud.REFUNDS]
    assert fraud.assess(rules, **{**clean, "counters": {"credited_USD": 9_000, "reversed_USD": 9_000}}) == []
