"""Tier evaluation at each boundary: upgrades at once, grace at the monthly review, then downgrade."""
from datetime import datetime, timezone

import pytest

from chalicelib.domain.tiers import (BRONZE, GOLD, NORMAL, SILVER, Activity, TierProgram, TierState,
                                     activity_in_window, after_activity, monthly_review, next_tier_needs,
                                     qualified_tier)

P = TierProgram()


@pytest.mark.parametrize("spend,tier", [
    (0, NORMAL), (49_999, NORMAL), (50_000, BRONZE), (99_999, BRONZE), (100_000, SILVER),
    (199_999, SILVER), (200_000, GOLD), (10**9, GOLD),
])
def test_spend_boundaries_are_half_open_bands(spend, tier):
    assert qualified_tier(Activity(spend, 0), P) == tier


@pytest.mark.parametrize("orders,tier", [
    (0, NORMAL), (2, NORMAL), (3, BRONZE), (5, BRONZE), (6, SILVER), (11, SILVER), (12, GOLD),
])
def test_order_count_boundaries_are_half_open_bands(orders, tier):
    assert qualified_tier(Activity(0, orders), P) == tier


def test_successful_invites_count_as_orders_at_the_configured_weight():
    assert qualified_tier(Activity(0, 1, invites=2), P) == BRONZE
    assert qualified_tier(Activity(0, 0, invites=2), TierProgram(invite_weight=3)) == SILVER
    assert qualified_tier(Activity(0, 5, invites=9), TierProgram(invite_weight=0)) == BRONZE


def test_requiring_both_measures_takes_the_lower_of_the_two():
    assert qualified_tier(Activity(200_000, 3), TierProgram(require_both=True)) == BRONZE


def test_an_upgrade_applies_at_once_and_activity_never_demotes():
    assert after_activity(TierState(NORMAL), Activity(50_000, 0), P) == TierState(BRONZE)
    assert after_activity(TierState(GOLD), Activity(0, 0), P) == TierState(GOLD)


def test_qualifying_again_during_grace_ends_the_grace():
    assert after_activity(TierState(SILVER, "2026-03"), Activity(100_000, 0), P) == TierState(SILVER)


def test_below_its_tier_at_the_review_a_member_keeps_it_for_the_grace_month_then_moves_down():
    low = Activity(60_000, 0)  # Bronze
    march = monthly_review(TierState(GOLD), low, "2026-03", P)
    assert march == TierState(GOLD, "2026-03")
    april = monthly_review(march, low, "2026-04", P)
    assert april == TierState(BRONZE)


def test_a_two_month_grace_waits_two_reviews():
    p = TierProgram(grace_months=2)
    s = monthly_review(TierState(SILVER), Activity(), "2026-11", p)
    s = monthly_review(s, Activity(), "2026-12", p)
    assert s == TierState(SILVER, "2026-11")
    assert monthly_review(s, Activity(), "2027-01", p) == TierState(NORMAL)


def test_without_grace_the_review_moves_down_at_once():
    assert monthly_review(TierState(GOLD), Activity(0, 6), "2026-05", TierProgram(grace_months=0)) == TierState(SILVER)


def test_a_review_that_finds_the_member_at_or_above_its_tier_keeps_or_raises_it_and_clears_grace():
    assert monthly_review(TierState(BRONZE, "2026-02"), Activity(50_000, 0), "2026-03", P) == TierState(BRONZE)
    assert monthly_review(TierState(BRONZE), Activity(0, 12), "2026-03", P) == TierState(GOLD)


def test_the_rolling_window_counts_today_and_the_days_before_it_only():
    now = datetime(2026, 3, 31, 12, tzinfo=timezone.utc)
    days = {"20260301": Activity(10, 1), "20260302": Activity(20, 1), "20260331": Activity(40, 1),
            "20260401": Activity(80, 1)}
    assert activity_in_window(days, now, P) == Activity(60, 2)


def test_what_the_next_tier_needs_and_nothing_above_gold():
    needs = next_tier_needs(BRONZE, Activity(70_000, 4), P)
    assert needs == {"tier": SILVER, "spend_minor_needed": 30_000, "orders_needed": 2, "either_is_enough": True}
    assert next_tier_needs(GOLD, Activity(), P) is None
