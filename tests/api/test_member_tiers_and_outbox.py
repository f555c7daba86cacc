"""Tiers through the API (upgrade at once with an order, the monthly review with grace in the daily
job) and the notification outbox, which never schedules inside a member's quiet hours."""
import json
from datetime import datetime, timezone

import pytest

from tests.support.helpers import auth
from tests.support.members import Clock, Members
from tests.support.program import table_snapshot

MAR_10_NOON = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def m(api, monkeypatch):
    members = Members(api, Clock(monkeypatch, MAR_10_NOON))
    members.publish_plan()
    members.publish_rewards()
    return members


def _daily(api):
    return api.lambda_.invoke("members_daily", api.events.generate_cw_event("Scheduled Event", "aws.events", {}, []))


def _stored(member_id: str) -> dict:
    return next(i for i in table_snapshot() if i["PK"] == f"MEMBER#{member_id}" and i["SK"] == "PROFILE")


def _outbox(member_id: str) -> list[dict]:
    return [i for i in table_snapshot() if i["PK"] == f"MEMBER#{member_id}" and i["SK"].startswith("OUTBOX#")]


def test_a_member_reads_its_tier_discount_and_what_the_next_tier_needs(m):
    m.register("ann")
    m.buy("ann", "a1", 30_000)
    t = m.tier("ann")
    assert (t["tier"], t["discount_bps"]) == ("normal", 500)
    assert t["next"] == {"tier": "bronze", "spend_minor_needed": 20_000, "orders_needed": 2, "either_is_enough": True}


def test_the_order_that_crosses_a_threshold_upgrades_at_once_and_queues_a_notification(m):
    m.register("ann", time_zone="Europe/Berlin")
    m.buy("ann", "a1", 30_000)
    r = json.loads(m.buy("ann", "a2", 20_000).body)
    assert r["member"]["tier"] == "bronze" and r["member"]["tier_changed"] is True
    assert m.tier("ann")["discount_bps"] == 800
    [note] = _outbox(m.ids["ann"])
    assert note["detail_type"] == "TierChanged" and json.loads(note["detail"])["to"] == "bronze"
    assert note["not_before"] == "2026-03-10T12:00:00.000000Z"  # 13:00 in Berlin: not quiet


def test_a_notification_due_in_the_members_quiet_hours_waits_for_its_morning(m):
    m.clock.at = datetime(2026, 3, 10, 22, 30, tzinfo=timezone.utc)  # 07:30 next day in Tokyo: still quiet
    m.register("kei", time_zone="Asia/Tokyo")
    m.buy("kei", "k1", 60_000)
    [note] = _outbox(m.ids["kei"])
    assert note["not_before"] == "2026-03-11T00:00:00.000000Z"  # 09:00 JST
    due = json.loads(m.c.get("/admin/members/outbox", headers=auth("admin")).body)["due"]
    assert due == []  # not yet
    m.clock.advance(hours=2)
    due = json.loads(m.c.get("/admin/members/outbox", headers=auth("admin")).body)["due"]
    assert [(d["DetailType"], d["Source"]) for d in due] == [("TierChanged", "upline.members")]


def test_the_outbox_shows_a_notification_held_by_quiet_hours_with_the_time_it_is_due(m):
    m.clock.at = datetime(2026, 3, 10, 22, 30, tzinfo=timezone.utc)  # 07:30 next day in Tokyo: still quiet
    m.register("kei", time_zone="Asia/Tokyo")
    m.buy("kei", "k1", 60_000)
    view = json.loads(m.c.get("/admin/members/outbox", headers=auth("admin")).body)
    assert view["due"] == []
    [held] = view["waiting"]
    assert held["DetailType"] == "TierChanged" and held["member_id"] == m.ids["kei"]
    assert held["due_at"] == view["next_due_at"] == "2026-03-11T00:00:00.000000Z"  # 09:00 JST
    m.clock.advance(hours=1, minutes=30)  # exactly 09:00 in Tokyo: due, not waiting
    view = json.loads(m.c.get("/admin/members/outbox", headers=auth("admin")).body)
    assert [d["due_at"] for d in view["due"]] == ["2026-03-11T00:00:00.000000Z"]
    assert view["waiting"] == [] and view["next_due_at"] is None


def test_a_member_is_never_demoted_mid_month_and_keeps_its_tier_through_the_grace_month(m, api):
    m.register("ann")
    for i in range(3):
        m.buy("ann", f"a{i}", 1000)  # three orders: Bronze
    assert m.tier("ann")["tier"] == "bronze"
    m.clock.at = datetime(2026, 3, 31, 0, 30, tzinfo=timezone.utc)
    _daily(api)
    assert m.tier("ann")["tier"] == "bronze"  # March: no review for a member who joined in March
    m.clock.at = datetime(2026, 4, 20, 0, 30, tzinfo=timezone.utc)
    _daily(api)  # April review: the window has no orders left -> grace
    t = m.tier("ann")
    assert (t["tier"], t["grace_since"]) == ("bronze", "2026-04")
    m.clock.at = datetime(2026, 4, 30, 0, 30, tzinfo=timezone.utc)
    _daily(api)
    assert m.tier("ann")["tier"] == "bronze"
    m.clock.at = datetime(2026, 5, 1, 0, 15, tzinfo=timezone.utc)
    _daily(api)  # May review: grace is over -> Normal
    assert m.tier("ann")["tier"] == "normal"
    notes = [json.loads(n["detail"]) for n in _outbox(m.ids["ann"]) if n["detail_type"] == "TierChanged"]
    assert {"from": "bronze", "to": "normal"} in [{k: n[k] for k in ("from", "to")} for n in notes]


def test_successful_invites_count_toward_the_advocates_tier(m, api):
    m.register("ann")
    m.buy("ann", "a1", 1000)  # one order
    for f in ["f1", "f2"]:
        m.register(f, invite_from="ann")
        m.buy(f, f"{f}-1", 5000)
    m.clock.advance(days=14)
    assert m.rewards("ann")["balances"]["points"] == 1000
    t = m.tier("ann")  # each earned invite counts as one order at once: 1 + 2 = Bronze
    assert (t["activity"]["orders"], t["activity"]["invites"], t["tier"]) == (1, 2, "bronze")
    assert _stored(m.ids["ann"])["tier"] == "normal"
    _daily(api)  # ... and the daily job writes it down
    assert _stored(m.ids["ann"])["tier"] == "bronze" and m.tier("ann") == t


def test_expiry_reminders_and_earned_notices_are_written_once(m, api):
    m.publish_rewards(expiry_days=20, expiry_notice_days=10, effective_from="2021-01-01T00:00:00Z")
    m.register("ann")
    m.register("bob", invite_from="ann")
    m.buy("bob", "b1", 5000)
    m.clock.advance(days=14)
    _daily(api)
    m.clock.advance(days=12)
    _daily(api)
    _daily(api)
    kinds = sorted(n["detail_type"] for n in _outbox(m.ids["ann"]))
    assert kinds == ["RewardEarned", "RewardExpiring"]
    m.clock.advance(days=10)
    view = m.rewards("ann")
    assert view["available"]["points"] == 0 and [e["kind"] for e in view["ledger"]] == ["earn", "expire"]
    assert json.loads(m.redeem("ann", "late", 1).body)["error"]["code"] == "insufficient_balance"


def test_the_advocates_tier_multiplies_the_reward_it_earns(m, api):
    rules = [{"tier": "normal", "min_spend_minor": 0, "min_orders": 0, "discount_bps": 500},
             {"tier": "bronze", "min_spend_minor": 50_000, "min_orders": 3, "discount_bps": 800},
             {"tier": "silver", "min_spend_minor": 100_000, "min_orders": 6, "discount_bps": 1000,
              "advocate_multiplier_bps": 15_000},
             {"tier": "gold", "min_spend_minor": 200_000, "min_orders": 12, "discount_bps": 1200,
              "advocate_multiplier_bps": 20_000}]
    m.publish_rewards(tiers={"rules": rules}, effective_from="2021-01-01T00:00:00Z")
    m.register("ann")
    m.buy("ann", "a1", 100_000)  # Silver at once
    m.register("bob", invite_from="ann")
    m.buy("bob", "b1", 5000)
    m.clock.advance(days=14)
    assert m.tier("ann")["advocate_multiplier_bps"] == 15_000
    assert m.rewards("ann")["balances"]["points"] == 750  # 500 x 1.5
