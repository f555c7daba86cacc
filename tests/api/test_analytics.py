"""Program KPIs (issue 16) on a generated history: members join over five months (some invited),
members and non-members order and reorder (some through partners' codes, some in another currency),
some orders are refunded. The stream is drained (twice: the second is a redelivery of everything),
then every KPI the API shows is compared with a value this test computes from what it generated:
the orders, refunds, registrations and the stored tiers it read back, never the aggregates."""
from __future__ import annotations

import csv
import io
import json
import os
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import boto3
import pytest

from tests.support.helpers import auth
from tests.support.members import Clock, Members
from tests.support.program import project_figures

MONTHS = ["2026-03", "2026-04", "2026-05", "2026-06", "2026-07"]
TIERS = ("normal", "bronze", "silver", "gold")


@dataclass
class Sale:
    order_id: str
    who: str
    amount: int
    currency: str
    at: datetime
    as_member: bool
    partner: str | None
    refunded: int = 0


def month(d: datetime | date) -> str:
    return d.isoformat()[:7]


def week(d: datetime | date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def share(n: int, d: int) -> str | None:
    return str((Decimal(n) / Decimal(d)).quantize(Decimal("0.0001"))) if d else None


def build_history(api, monkeypatch) -> dict:
    """The generated history, as the test recorded it while driving the API."""
    rnd = random.Random(16)
    m = Members(api, Clock(monkeypatch))
    m.publish_plan()
    m.publish_rewards(cap_per_month=1000, cap_per_year=1000, holding_days=0)
    joined: dict[str, datetime] = {}
    invites: list[tuple[str, datetime]] = []  # (advocate, when the friend joined)
    partners: dict[str, datetime] = {}
    sales: list[Sale] = []
    tiers: dict[str, list[tuple[datetime, str]]] = {}
    shoppers = [f"guest{i}" for i in range(8)]
    n = 0
    for step in range(16):  # from 2026-03-02 to July
        if step % 4 == 0:
            code = f"PART{step}"
            m.enrol(code)
            partners[f"P-{code}"] = m.clock.at
        for _ in range(rnd.randint(1, 3)):
            name = f"mem{len(joined)}"
            advocate = rnd.choice(list(joined)) if joined and rnd.random() < 0.5 else None
            view = m.register(name, invite_from=advocate)
            assert view["invited_by"] == (m.ids[advocate] if advocate else None)
            joined[name] = m.clock.at
            tiers[name] = [(m.clock.at, "normal")]
            if advocate:
                invites.append((advocate, m.clock.at))
        for _ in range(rnd.randint(3, 7)):
            m.clock.advance(hours=rnd.randint(1, 20))
            who = rnd.choice(list(joined) + shoppers + [f"new{n}"])
            currency = "EUR" if rnd.random() < 0.1 else "USD"
            amount = rnd.randint(5, 400) * 100
            partner = rnd.choice(list(partners)) if rnd.random() < 0.4 else None
            n += 1
            extra = {"referral_code": partner[2:]} if partner else {}
            r = m.buy(who, f"o{n}", amount, currency=currency, **extra)
            assert r.status_code == 201, r.body
            placed = json.loads(r.body)
            if partner:
                assert placed["status"] == "attributed"
            # A customer once referred stays bound to its partner: later orders are attributed too.
            partner = (placed.get("attribution") or {}).get("partner_id") if placed["status"] == "attributed" else None
            sales.append(Sale(f"o{n}", who, amount, currency, m.clock.at, who in joined, partner))
            if who in joined:
                got = json.loads(api.http.get(f"/members/{m.ids[who]}", headers=auth("admin")).body)["tier"]
                if got != tiers[who][-1][1]:
                    tiers[who].append((m.clock.at, got))
            if rnd.random() < 0.15:
                part = rnd.choice([amount, amount // 2])
                body = m.refund_body(f"o{n}", f"rf{n}", part, currency=currency, at=m.clock.at + timedelta(seconds=1))
                assert m.signed("/webhooks/refunds", body).status_code in (200, 201)
                sales[-1].refunded = part
        m.clock.advance(days=6)
    assert month(m.clock.at) <= MONTHS[-1]
    m.clock.at = datetime(2026, 7, 31, 12, tzinfo=timezone.utc)  # "now": the last month shown
    project_figures()
    project_figures()  # everything again, from the oldest record: a redelivery adds nothing
    return {"joined": joined, "invites": invites, "partners": partners, "sales": sales, "tiers": tiers,
            "api": api, "now": m.clock.at}


def kpi(api, name: str, first: str = MONTHS[0], last: str = MONTHS[-1], currency: str = "USD") -> dict:
    r = api.http.get(f"/admin/analytics/{name}?from={first}&to={last}&currency={currency}", headers=auth("finance"))
    assert r.status_code == 200, r.body
    return json.loads(r.body)


def active_days(h) -> dict[str, set[date]]:
    """Each member's days of activity: orders placed as a member, and friends who joined with its code."""
    days: dict[str, set[date]] = defaultdict(set)
    for s in h["sales"]:
        if s.as_member:
            days[s.who].add(s.at.date())
    for advocate, at in h["invites"]:
        days[advocate].add(at.date())
    return days


@pytest.fixture(scope="class")
def history():
    """Built once for TestOneGeneratedHistory (scope "class"), on moto."""
    from moto import mock_aws

    from chalicelib import bootstrap
    from chalicelib.store.schema import create_table
    from tests.conftest import _client, wire
    from tests.support.fastmoto import fast_moto

    with pytest.MonkeyPatch.context() as mp, mock_aws(), fast_moto():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, os.environ["UPLINE_TABLE"])
        wire(client)
        with _client() as api:
            yield build_history(api, mp)
        bootstrap.reset()


class TestOneGeneratedHistory:
    """Every KPI against one history, built once for the class (building it drives about a hundred
    orders through the API): each test only reads."""

    def test_new_and_active_members_per_month_and_week_match_the_history(self, history):
        got = kpi(history["api"], "members")
        days = active_days(history)
        for row in got["monthly"]:
            assert row["new_members"] == sum(1 for at in history["joined"].values() if month(at) == row["month"])
            assert row["active_members"] == sum(1 for d in days.values() if any(month(x) == row["month"] for x in d))
        weeks = {w["week"]: w["active_members"] for w in got["weekly"]}
        expected = defaultdict(int)
        for d in days.values():
            for w in {week(x) for x in d}:
                expected[w] += 1
        assert sum(expected.values()) > 20
        for w, count in expected.items():
            if w in weeks:
                assert weeks[w] == count, w
        assert len(weeks) >= 20  # every ISO week starting in the five months


    def test_the_retention_table_matches_each_cohorts_activity(self, history):
        got = {row["cohort"]: row for row in kpi(history["api"], "members")["retention"]}
        days = active_days(history)
        for j in MONTHS:
            cohort = [n for n, at in history["joined"].items() if month(at) == j]
            assert got[j]["size"] == len(cohort)
            for k, mth in enumerate(MONTHS[MONTHS.index(j):]):
                active = sum(1 for n in cohort if any(month(x) == mth for x in days.get(n, ())))
                assert got[j][f"m{k}"] == share(active, len(cohort)), (j, mth)


    def test_lifetime_value_per_join_cohort_is_net_member_revenue_per_member(self, history):
        got = {row["cohort"]: row for row in kpi(history["api"], "members")["ltv"]}
        for j in MONTHS:
            cohort = {n for n, at in history["joined"].items() if month(at) == j}
            revenue = sum(s.amount - s.refunded for s in history["sales"]
                          if s.who in cohort and s.as_member and s.currency == "USD")
            assert got[j]["2026"] == (revenue // len(cohort) if cohort else None), j
        assert any(got[j]["2026"] for j in MONTHS)


    def test_repurchase_rate_and_order_value_for_members_and_others(self, history):
        got = {row["month"]: row for row in kpi(history["api"], "members")["monthly"]}
        usd = [s for s in history["sales"] if s.currency == "USD"]
        for mth in MONTHS:
            in_month = [s for s in usd if month(s.at) == mth]
            buyers = {s.who for s in in_month}
            repeat = {b for b in buyers if sum(1 for s in usd if s.who == b and month(s.at) <= mth) >= 2}
            members = {s.who for s in in_month if s.as_member}
            row = got[mth]
            assert (row["buyers"], row["repeat_buyers"]) == (len(buyers), len(repeat))
            assert row["repurchase_rate"] == share(len(repeat), len(buyers))
            assert row["member_repurchase_rate"] == share(len(repeat & members), len(members))
            assert row["non_member_repurchase_rate"] == share(len(repeat - members), len(buyers - members))
            mine = [s.amount for s in in_month if s.as_member]
            others = [s.amount for s in in_month if not s.as_member]
            assert row["orders"] == len(in_month)
            assert row["member_aov_minor"] == (sum(mine) // len(mine) if mine else None)
            assert row["non_member_aov_minor"] == (sum(others) // len(others) if others else None)
        assert any(got[mth]["repeat_buyers"] for mth in MONTHS)


    def test_members_per_tier_and_tier_moves_follow_the_stored_tiers(self, history):
        got = kpi(history["api"], "members")
        moves = {row["month"]: (row["tier_up"], row["tier_down"]) for row in got["monthly"]}
        for mth in MONTHS:
            up = down = 0
            for changes in history["tiers"].values():
                for (_, before), (at, after) in zip(changes, changes[1:]):
                    if month(at) == mth:
                        up += TIERS.index(after) > TIERS.index(before)
                        down += TIERS.index(after) < TIERS.index(before)
            assert moves[mth] == (up, down), mth
        for row in got["tiers"]:
            at_end = defaultdict(int)
            for changes in history["tiers"].values():
                held = [t for at, t in changes if month(at) <= row["month"]]
                if held:
                    at_end[held[-1]] += 1
            assert {t: row[t] for t in TIERS} == {t: at_end[t] for t in TIERS}, row["month"]
        assert sum(moves[mth][0] for mth in MONTHS) > 0


    def test_partner_kpis_match_the_attributed_orders(self, history):
        got = kpi(history["api"], "partners")
        usd = [s for s in history["sales"] if s.currency == "USD" and s.partner]
        for row in got["monthly"]:
            mth = row["month"]
            mine = [s for s in usd if month(s.at) == mth]
            assert row["new_partners"] == sum(1 for at in history["partners"].values() if month(at) == mth)
            assert row["active_partners"] == len({s.partner for s in history["sales"] if s.partner and month(s.at) == mth})
            revenue = sum(s.amount - s.refunded for s in mine)
            commissions = sum(s.amount * 1000 // 10000 for s in mine)  # the plan's 10% at level 1
            assert row["attributed_revenue_minor"] == revenue
            assert row["commissions_minor"] == commissions
            assert row["cost_of_sales"] == share(commissions, revenue)
        totals = defaultdict(int)
        for s in usd:
            totals[s.partner] += s.amount - s.refunded
        best = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        assert [(t["partner_id"], t["attributed_revenue_minor"]) for t in got["top"]] == best


    def test_the_csv_download_holds_the_same_figures(self, history):
        api = history["api"]
        r = api.http.get(f"/admin/analytics/members/csv?from={MONTHS[0]}&to={MONTHS[-1]}&currency=USD",
                         headers=auth("admin"))
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
        rows = [row for row in csv.reader(io.StringIO(r.body.decode() if isinstance(r.body, bytes) else r.body)) if row]
        monthly = [row for row in rows if row[0] == "monthly"]
        assert [row[1] for row in monthly] == MONTHS
        as_json = kpi(api, "members")["monthly"]
        header = next(row for row in rows if row[0] == "table" and "new_members" in row)
        assert [int(row[header.index("new_members")]) for row in monthly] == [x["new_members"] for x in as_json]


@pytest.mark.parametrize("query", ["from=2026-3&to=2026-07&currency=USD", "from=2026-07&to=2026-03&currency=USD",
                                   "from=2026-03&to=2026-07", "from=2026-03&to=2026-07&currency=usd",
                                   "from=2026-03&to=2099-01&currency=USD", "from=2010-01&to=2012-12&currency=USD"])
def test_a_bad_period_or_currency_is_a_400(api, query):
    r = api.http.get(f"/admin/analytics/members?{query}", headers=auth("admin"))
    assert r.status_code == 400 and json.loads(r.body)["error"]["code"]


def test_partners_and_members_cannot_read_the_kpis(api):
    for headers in (auth("partner", "P-X"), auth("member", member_id="M-abc")):
        r = api.http.get("/admin/analytics/members?from=2026-03&to=2026-03&currency=USD", headers=headers)
        assert r.status_code == 403


@pytest.fixture
def rewards_history(api, monkeypatch):
    """Members invite friends (a points welcome for the friend, points for the advocate on the
    friend's first order), redeem some, and let some expire; the daily job runs each week."""
    rnd = random.Random(61)
    m = Members(api, Clock(monkeypatch))
    m.publish_plan()
    m.publish_rewards(friend_reward={"kind": "points", "amount": 250}, advocate_reward={"kind": "points", "amount": 500},
                      holding_days=0, expiry_days=30, cap_per_month=1000, cap_per_year=1000, point_value_minor=2)
    daily = lambda: api.lambda_.invoke(  # noqa: E731
        "members_daily", api.events.generate_cw_event("Scheduled Event", "aws.events", {}, []))
    welcomes: dict[str, int] = defaultdict(int)  # month -> friends who joined with a code
    redeemed: dict[str, int] = defaultdict(int)  # month -> points this test redeemed
    names: list[str] = []
    for step in range(12):
        for _ in range(rnd.randint(1, 2)):
            name = f"r{len(names)}"
            advocate = rnd.choice(names) if names and rnd.random() < 0.7 else None
            m.register(name, invite_from=advocate)
            names.append(name)
            if advocate:
                welcomes[month(m.clock.at)] += 1
                assert m.buy(name, f"{name}-1", 5000).status_code == 201
        m.clock.advance(days=1)
        daily()
        for name in rnd.sample(names, min(2, len(names))):
            points = m.rewards(name)["available"]["points"]
            if points >= 100:
                amount = rnd.randint(1, points // 100) * 50
                r = m.redeem(name, f"red-{step}-{name}", amount)
                assert r.status_code == 201, r.body
                redeemed[month(m.clock.at)] += amount
        m.clock.advance(days=7)
    m.clock.at = datetime(2026, 5, 31, 12, tzinfo=timezone.utc)
    daily()
    ledger = [e for n in names for e in m.rewards(n)["ledger"]]
    project_figures()
    project_figures()
    return {"api": api, "ledger": ledger, "welcomes": welcomes, "redeemed": redeemed}


def test_reward_kpis_match_the_members_rewards_ledgers(rewards_history):
    h = rewards_history
    r = h["api"].http.get("/admin/analytics/rewards?from=2026-03&to=2026-05&currency=USD", headers=auth("admin"))
    assert r.status_code == 200, r.body
    got = {row["month"]: row for row in json.loads(r.body)["monthly"]}
    ledger = h["ledger"]
    for mth in ("2026-03", "2026-04", "2026-05"):
        def total(kind: str, unit: str = "points") -> int:
            return sum(abs(e["amount"]) for e in ledger
                       if e["kind"] == kind and e["unit"] == unit and e["occurred_at"][:7] == mth)
        row = got[mth]
        assert row["points_issued"] == total("earn")
        assert row["points_redeemed"] == total("redeem") == h["redeemed"][mth]
        assert row["points_expired"] == total("expire")
        outstanding = sum(e["amount"] for e in ledger if e["unit"] == "points" and e["occurred_at"][:7] <= mth)
        assert row["points_outstanding"] == outstanding
        assert row["liability_minor"] == outstanding * 2
        assert row["points_breakage"] == share(total("expire"), total("redeem") + total("expire"))
        welcome = sum(e["amount"] for e in ledger if e["kind"] == "earn" and e["amount"] == 250
                      and e["occurred_at"][:7] == mth)
        assert welcome == 250 * h["welcomes"][mth]
    assert sum(got[x]["points_expired"] for x in got) > 0 and sum(got[x]["points_redeemed"] for x in got) > 0


def test_rewards_are_read_in_the_programs_currency_only(rewards_history):
    r = rewards_history["api"].http.get("/admin/analytics/rewards?from=2026-03&to=2026-05&currency=EUR",
                                        headers=auth("admin"))
    assert r.status_code == 400 and json.loads(r.body)["error"]["code"] == "invalid_currency"
