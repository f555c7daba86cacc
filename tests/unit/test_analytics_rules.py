"""The pure rules of program analytics: what one person's state contributes to the aggregates, how
stream facts merge into it, and how KPIs read off aggregates."""
from chalicelib.domain import analytics as an


def order(day: str, amount: int = 1000, refunded: int = 0, member: bool = True, partner: str = "") -> an.OrderFacts:
    return an.OrderFacts(day, "USD", amount, refunded, member, partner, amount // 10 if partner else 0)


def member(joined: str = "2026-01-05", **orders: an.OrderFacts) -> an.Person:
    return an.Person(joined, orders, {}, ((joined, "normal"),), "1")


def test_iso_weeks_cross_the_new_year_as_iso_says():
    assert an.week_of("2026-01-01") == "2026-W01"
    assert an.week_of("2027-01-01") == "2026-W53"
    assert an.weeks_starting_in(["2026-03"]) == ["2026-W10", "2026-W11", "2026-W12", "2026-W13", "2026-W14"]


def test_two_orders_in_one_week_make_the_member_active_once_that_week_and_month():
    c = an.contributions(member(a=order("2026-03-02"), b=order("2026-03-04")))
    assert c[("M#2026-03", "wk_2026-W10")] == 1 and c[("M#2026-03", "active")] == 1
    assert c[("J#2026-01", "act_2026-03")] == 1 and c[("J#2026-01", "size")] == 1


def test_an_invite_counts_as_activity_on_the_day_the_friend_joined():
    p = an.with_invite(member(), "M-friend", "2026-02-10")
    assert an.with_invite(p, "M-friend", "2026-02-10") == p
    assert an.contributions(p)[("M#2026-02", "active")] == 1


def test_a_second_order_makes_a_repeat_buyer_in_its_month_not_before():
    c = an.contributions(member(a=order("2026-01-10"), b=order("2026-03-01")))
    assert (c[("C#USD#2026-01", "buyers")], c[("C#USD#2026-01", "repeaters")]) == (1, 0)
    assert (c[("C#USD#2026-03", "buyers")], c[("C#USD#2026-03", "repeaters")]) == (1, 1)
    assert c[("C#USD#2026-03", "m_repeaters")] == 1


def test_a_non_members_orders_count_for_buyers_but_not_for_members_or_cohorts():
    c = an.contributions(an.Person(None, {"a": order("2026-01-10", member=False)}))
    assert c[("C#USD#2026-01", "buyers")] == 1 and c[("C#USD#2026-01", "m_buyers")] == 0
    assert not any(item.startswith(("J#", "M#")) for item, _ in c)


def test_refunds_only_grow_and_shrink_cohort_revenue():
    p = member(a=order("2026-02-01", 5000))
    p = an.with_order(p, "a", order("2026-02-01", 5000, refunded=2000))
    p = an.with_order(p, "a", order("2026-02-01", 5000, refunded=0))  # an older image, redelivered
    assert p.orders["a"].refunded == 2000
    assert an.contributions(p)[("J#2026-01", "rev_USD_2026-02")] == 3000


def test_tier_changes_are_taken_in_once_by_sequence_and_counted_up_and_down():
    p = an.with_profile(an.Person(), "2026-01-05", "normal", "2026-01-05", "01")
    p = an.with_profile(p, "2026-01-05", "silver", "2026-02-01", "03")
    p = an.with_profile(p, "2026-01-05", "bronze", "2026-01-20", "02")  # older: ignored
    p = an.with_profile(p, "2026-01-05", "bronze", "2026-04-01", "04")
    c = an.contributions(p)
    assert (c[("M#2026-02", "tier_up")], c[("M#2026-04", "tier_down")]) == (1, 1)
    assert c[(an.TOTAL, "tier_bronze")] == 1 and c[(an.TOTAL, "tier_silver")] == 0


def test_members_per_tier_at_a_months_end_take_the_later_moves_off_the_running_totals():
    items = {an.TOTAL: {"tier_normal": 1, "tier_gold": 1},
             "M#2026-01": {"net_normal": 2}, "M#2026-03": {"net_normal": -1, "net_gold": 1}}
    got = an.members_kpis(items, ["2026-01", "2026-02"], "USD", ["2026-03"])["tiers"]
    assert [(r["normal"], r["gold"]) for r in got] == [(2, 0), (2, 0)]


def test_the_difference_of_contributions_keeps_negatives_and_drops_zeros():
    old = an.contributions(member(a=order("2026-01-10")))
    new = an.contributions(member(a=order("2026-01-10", refunded=1000)))
    assert an.difference(new, old) == {("C#USD#2026-01", "refunds"): 1000, ("J#2026-01", "rev_USD_2026-01"): -1000}


def test_shares_are_four_place_decimals_and_none_without_a_base():
    assert (an.ratio(1, 3), an.ratio(0, 0)) == ("0.3333", None)


def test_partner_kpis_rank_partners_by_attributed_net_revenue_over_the_period():
    items = {"P#USD#2026-01": {"A": 100, "B": 300}, "P#USD#2026-02": {"A": 250},
             "C#USD#2026-01": {"attr_gross": 400, "commissions": 40, "bonuses": 10, "reversed": 4}}
    got = an.partners_kpis(items, ["2026-01", "2026-02"], "USD")
    assert [t["partner_id"] for t in got["top"]] == ["A", "B"]
    assert (got["monthly"][0]["cost_of_sales"], got["monthly"][0]["clawback_rate"]) == ("0.1250", "0.1000")


def test_rewards_outstanding_and_liability_at_a_months_end_take_the_later_entries_off_the_balance():
    cells = [*an.reward_cells("earn", "points", 500, "2026-01-03"), *an.reward_cells("redeem", "points", -200, "2026-02-01"),
             *an.reward_cells("expire", "points", -100, "2026-03-01"), *an.reward_cells("earn", "credit", 300, "2026-01-09")]
    items = an.by_item(cells)
    got = an.rewards_kpis(items, ["2026-01", "2026-02"], ["2026-03"], point_value_minor=2)["monthly"]
    assert [(r["points_outstanding"], r["credit_outstanding"]) for r in got] == [(500, 300), (300, 300)]
    assert [r["liability_minor"] for r in got] == [1300, 900]
    assert (got[0]["points_issued"], got[1]["points_redeemed"], got[1]["points_breakage"]) == (500, 200, "0.0000")
