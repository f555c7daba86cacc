"""Compliance profiles through the API: `cn` refuses a three-level plan, a cash invite reward and a
fee to join, naming the rule and writing nothing; the compliance report's figures on a generated
program (a seeded random tree and orders), recomputed here from the tree and the orders alone."""
from __future__ import annotations

import csv
import io
import json
import random
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import bootstrap
from tests.support.helpers import auth, dumps
from tests.support.members import PROGRAM
from tests.support.program import table_snapshot
from tests.support.settlement import Clock, Settling

UTC = timezone.utc
AUG = datetime(2026, 8, 10, 12, tzinfo=UTC)
THREE_LEVELS = {"levels_bps": [1000, 500, 200], "cap_bps": 2000, "holding_days": 0,
                "effective_from": "2026-08-01T00:00:00Z"}
TWO_LEVELS = {**THREE_LEVELS, "levels_bps": [1000, 500]}


@pytest.fixture
def clock(monkeypatch):
    c = Clock(AUG)
    monkeypatch.setattr(bootstrap, "now", c)
    return c


def use_profile(monkeypatch, profile: str) -> None:
    monkeypatch.setenv("UPLINE_COMPLIANCE_PROFILE", profile)
    bootstrap.settings.cache_clear()


@pytest.fixture
def cn(monkeypatch):
    use_profile(monkeypatch, "cn")
    yield
    bootstrap.settings.cache_clear()


def post(api, path: str, body: dict):
    return api.http.post(path, headers=auth("admin"), body=dumps(body))


def error(r) -> dict:
    return json.loads(r.body)["error"]


def test_a_three_level_plan_is_refused_under_cn_with_the_rule_named_and_nothing_written(api_any, cn):
    before = table_snapshot()
    r = post(api_any, "/admin/plans", THREE_LEVELS)
    assert r.status_code == 422, r.body
    assert error(r)["code"] == "compliance" and "cn_max_two_levels" in error(r)["message"]
    assert table_snapshot() == before


def test_a_two_level_plan_is_published_under_cn(api_any, cn):
    r = post(api_any, "/admin/plans", TWO_LEVELS)
    assert r.status_code == 201, r.body
    assert json.loads(r.body)["levels_bps"] == [1000, 500]


def test_a_three_level_plan_is_published_under_the_default_profile(api_any):
    assert post(api_any, "/admin/plans", THREE_LEVELS).status_code == 201


def test_a_cash_invite_reward_is_refused_under_cn_and_nothing_written(api_any, cn):
    before = table_snapshot()
    r = post(api_any, "/admin/reward-programs", {**PROGRAM, "advocate_reward": {"kind": "credit", "amount": 500}})
    assert r.status_code == 422, r.body
    assert error(r)["code"] == "compliance" and "cn_no_recruitment_reward" in error(r)["message"]
    assert table_snapshot() == before
    assert post(api_any, "/admin/reward-programs", PROGRAM).status_code == 201  # coupon and points on a purchase


def test_a_fee_to_join_is_refused_by_its_rule_under_cn(api_any, cn):
    r = post(api_any, "/admin/plans", {**TWO_LEVELS, "join_fee_minor": 9_900})
    assert r.status_code == 422 and "cn_no_join_fee" in error(r)["message"]
    r = post(api_any, "/admin/reward-programs", {**PROGRAM, "entry_fee": 100})
    assert r.status_code == 422 and "cn_no_join_fee" in error(r)["message"]


# ---- the report on a generated program ------------------------------------------------------------

RATES = (1000, 500, 200)


def generate(p: Settling, seed: int, partners: int = 14, orders: int = 30, refunds: int = 5):
    """A random tree (each partner under an earlier one) and orders through random partners, some
    refunded in full. Amounts are whole hundreds, so every rate here divides them exactly."""
    rng = random.Random(seed)
    sponsor: dict[str, str | None] = {}
    for i in range(partners):
        code = f"GEN{i:02d}"
        sponsor[code] = f"GEN{rng.randrange(i):02d}" if i else None
        p.enrol(code, sponsor[code])
    sold = []
    for n in range(orders):
        code, amount = f"GEN{rng.randrange(partners):02d}", rng.randrange(1, 400) * 100
        p.sell(f"g{n}", amount, code=code, customer=f"cust-g{n}")
        sold.append((f"g{n}", code, amount))
    p.clock.t += timedelta(minutes=5)
    refunded = set(rng.sample([o for o, _, _ in sold], refunds))
    for order_id in sorted(refunded):
        p.give_back(order_id, f"r-{order_id}", next(a for o, _, a in sold if o == order_id))
    return sponsor, sold, refunded


def expected(sponsor, sold, refunded):
    """What each level and partner earned, from the tree and the orders: the attributed partner at
    level 1, its sponsor at 2, the sponsor's sponsor at 3; a refunded order nets to nothing."""
    net: dict[tuple[int, str], int] = defaultdict(int)
    touched = set()
    for order_id, code, amount in sold:
        who, level = code, 1
        while who is not None and level <= len(RATES):
            touched.add(who)
            net[(level, who)] += 0 if order_id in refunded else amount * RATES[level - 1] // 10_000
            who, level = sponsor[who], level + 1
    depth = {}
    for level in range(1, len(RATES) + 1):
        at = {who: v for (lvl, who), v in net.items() if lvl == level}
        if at:
            depth[level] = (sum(1 for v in at.values() if v > 0), sum(at.values()))
    split = {f"P-{who}": (net[(1, who)], net[(2, who)] + net[(3, who)]) for who in touched}
    return depth, split


@pytest.fixture
def generated(api_any, clock):
    p = Settling(api_any, clock)
    p.publish_plan(THREE_LEVELS)
    return p, *generate(p, seed=16)


def report(api, fmt: str = "json", period: str = "2026-08", role: str = "finance"):
    return api.http.get(f"/admin/compliance/report?period={period}&format={fmt}", headers=auth(role))


def test_the_reports_figures_agree_with_the_tree_and_the_orders(generated, api_any):
    _, sponsor, sold, refunded = generated
    depth, split = expected(sponsor, sold, refunded)
    r = report(api_any)
    assert r.status_code == 200, r.body
    body = json.loads(r.body)
    assert {row["level"]: (row["earners"], row["amounts_minor"]["USD"]) for row in body["depth"]} == depth
    got = {row["partner_id"]: (row["own_minor"], row["downline_minor"]) for row in body["partners"]}
    assert got == split
    for row in body["partners"]:
        own, down = split[row["partner_id"]]
        assert row["own_share_bps"] == (own * 10_000 // (own + down) if own + down > 0 else None)
    assert body["recruitment_only_minor"] == {} and body["violations"] == []


def test_the_csv_carries_the_same_figures(generated, api_any):
    body = json.loads(report(api_any).body)
    r = report(api_any, "csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.body.decode() if isinstance(r.body, bytes) else r.body)))
    depth = {int(x["level"]): (int(x["earners"]), int(x["amount_minor"])) for x in rows if x["section"] == "depth"}
    assert depth == {d["level"]: (d["earners"], d["amounts_minor"]["USD"]) for d in body["depth"]}
    income = {x["partner_id"]: (int(x["own_minor"]), int(x["downline_minor"])) for x in rows if x["section"] == "income"}
    assert income == {d["partner_id"]: (d["own_minor"], d["downline_minor"]) for d in body["partners"]}


def test_a_three_level_plan_from_before_the_cn_profile_is_flagged_in_the_report(generated, api_any, cn):
    body = json.loads(report(api_any).body)
    assert [v["rule"] for v in body["violations"]] == ["cn_max_two_levels"]
    assert body["in_force"]["plan"]["paid_levels"] == 3
    assert [v["rule"] for v in body["in_force"]["plan"]["violations"]] == ["cn_max_two_levels"]
    assert body["in_force"]["reward_program"]["violations"] == []


def test_the_report_is_for_staff_and_needs_a_period(api_any):
    assert report(api_any, role="admin").status_code == 200
    assert api_any.http.get("/admin/compliance/report", headers=auth("admin")).status_code == 400
    assert report(api_any, period="2026-13").status_code == 400
    assert report(api_any, fmt="xml").status_code == 400
    assert api_any.http.get("/admin/compliance/report?period=2026-08",
                            headers=auth("partner", "P-GEN00")).status_code == 403


def test_the_demo_seeds_a_two_level_plan_under_cn(api, cn):
    """As `make run` and `seed-demo` call it, with the stage's settings (here: the cn profile)."""
    from scripts import cli, demo

    lines = demo.seed(bootstrap.uow(), bootstrap.settings(), cli.DEMO, bootstrap.audit_trail("test-demo"))
    assert any("L1 10%, L2 5%, cap" in line for line in lines)
    plans = json.loads(api.http.get("/admin/plans", headers=auth("admin")).body)["plans"]
    assert [p["levels_bps"] for p in plans] == [[1000, 500]]
