"""The daily job and tiers on the twin: it writes down what time decided (earned and expired
rewards, cap refusals, reminders), once; upgrades apply with the order, downgrades only at the
monthly review after grace; a member it cannot settle waits while the others are settled."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain import rewards as rw
from tests.service.shop import T0


@pytest.fixture(autouse=True)
def program(shop):
    shop.publish()
    shop.register("ann")


def test_the_daily_job_writes_the_reward_time_earned_with_its_notification_and_balance(shop):
    shop.register("bob", invite_from="ann")
    shop.buy("bob", "b1", 5000)
    shop.advance(days=14)
    assert shop.daily() == {"members": 2, "changed": 1, "busy": 0, "failed": 0}
    st = shop.state("ann")
    assert [(e.kind, e.amount) for e in st.entries] == [("earn", 500)]
    assert st.outbox == {f"earned#earn#adv#{shop.ids['bob']}"}
    assert st.member.ledger_seq == 1 and st.member.days[shop.at.strftime("%Y%m%d")].invites == 1  # the day it matured
    assert shop.rewards("ann")["balances"]["points"] == 500


def test_the_daily_job_run_again_writes_nothing(shop):
    shop.register("bob", invite_from="ann")
    shop.buy("bob", "b1", 5000)
    shop.advance(days=14)
    shop.daily()
    writes = shop.uow.table.writes
    assert shop.daily()["changed"] == 0 and shop.uow.table.writes == writes


def test_the_daily_job_reminds_before_a_lot_expires_and_writes_the_expiry_after(shop):
    shop.register("bob", invite_from="ann")
    shop.buy("bob", "b1", 5000)
    shop.advance(days=14 + 50)  # earned at day 14, expires at day 74: 10 days left
    shop.daily()
    lot = f"earn#adv#{shop.ids['bob']}"
    assert f"expiring#{lot}" in shop.state("ann").outbox
    shop.advance(days=11)
    shop.daily()
    assert [(e.kind, e.amount) for e in shop.state("ann").entries] == [("earn", 500), ("expire", -500)]
    assert shop.rewards("ann")["balances"]["points"] == 0


def test_the_daily_job_writes_a_cap_refusal_once_the_reward_would_have_matured(shop):
    for friend in ("f1", "f2", "f3"):  # the cap is two rewarded invites a month
        shop.register(friend, invite_from="ann")
        shop.buy(friend, f"{friend}-1", 5000)
    rewards = shop.rewards("ann")["rewards"]
    assert [r["state"] for r in rewards] == ["pending", "pending", "refused"]
    capped = rewards[2]["friend_id"]
    shop.daily()
    assert shop.uow.members.refusals() == []  # not final before its holding has passed
    shop.advance(days=14)
    shop.daily()
    [refusal] = shop.uow.members.refusals()
    assert (refusal.code, refusal.friend_id) == ("cap_month", capped)
    assert [e.amount for e in shop.state("ann").entries] == [500, 500]


def test_the_order_that_crosses_a_threshold_upgrades_at_once_with_a_notification(shop):
    assert [shop.buy("ann", f"a{i}", 100).result["tier_changed"] for i in range(3)] == [False, False, True]
    assert shop.tier("ann")["tier"] == "bronze"
    assert shop.state("ann").outbox == {"tier#a2"}


def test_the_monthly_review_downgrades_only_after_a_month_of_grace(shop):
    for i in range(3):
        shop.buy("ann", f"a{i}", 100)  # bronze, by three orders on 2 March
    shop.at = datetime(2026, 4, 1, 0, 15, tzinfo=timezone.utc)  # the window no longer holds them
    shop.daily()
    assert (shop.state("ann").member.tier.tier, shop.state("ann").member.tier.grace_since) == ("bronze", "2026-04")
    writes = shop.uow.table.writes
    shop.daily()  # the same month's review is not made twice
    assert shop.uow.table.writes == writes
    shop.at = datetime(2026, 5, 1, 0, 15, tzinfo=timezone.utc)
    shop.daily()
    st = shop.state("ann")
    assert st.member.tier.tier == "normal" and st.profile.reviewed_month == "2026-05"
    assert "tier#2026-05" in st.outbox


def test_the_daily_job_prunes_activity_days_too_old_for_any_window(shop):
    shop.buy("ann", "a1", 100)
    assert list(shop.state("ann").member.days) == ["20260302"]
    shop.at = T0 + timedelta(days=60)
    shop.daily()
    assert list(shop.state("ann").member.days) == ["20260302"]  # still within window + a month
    shop.at = T0 + timedelta(days=62)
    shop.daily()
    assert shop.state("ann").member.days == {}


def test_a_member_with_more_due_writes_than_one_transaction_waits_while_the_others_are_settled(shop):
    shop.register("bob")
    many = [rw.AdvocateReward(f"adv#F{i:03d}", shop.ids["ann"], f"F{i:03d}", f"o{i}", rw.POINTS, 10, T0,
                              T0 + timedelta(days=14), 1, 1000, 1000, 60) for i in range(120)]
    for start in range(0, len(many), 50):
        shop.uow.add(*map(shop.uow.members.new_reward, many[start:start + 50]))
        shop.uow.commit()
    shop.uow.add(shop.uow.members.new_reward(rw.AdvocateReward(
        "adv#G", shop.ids["bob"], "G", "g1", rw.POINTS, 10, T0, T0 + timedelta(days=14), 1, 5, 20, 60)))
    shop.uow.commit()
    shop.advance(days=14)
    assert shop.daily() == {"members": 2, "changed": 1, "busy": 0, "failed": 1}
    assert shop.state("ann").entries == () and len(shop.state("bob").entries) == 1
