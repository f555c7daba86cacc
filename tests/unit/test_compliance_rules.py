"""Compliance profiles: what `cn` refuses in a plan and a reward program, what `default` leaves alone,
and the report's arithmetic on a handful of entries."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from chalicelib.config import Settings
from chalicelib.domain import compliance as c
from chalicelib.domain.bonuses import BonusRules, Tier
from chalicelib.domain.ledger import BONUS, COMMISSION, REVERSAL, Entry
from chalicelib.domain.plans import Plan
from chalicelib.domain.rewards import COUPON, CREDIT, POINTS, Reward, RewardProgram

T0 = datetime(2026, 8, 1, tzinfo=timezone.utc)


def plan(levels, **kw) -> Plan:
    return Plan(1, T0, tuple(levels), **kw)


def rules_of(violations) -> list[str]:
    return [v.rule for v in violations]


def test_a_three_level_plan_is_refused_under_cn_naming_the_two_level_rule():
    violations = c.plan_violations(c.CN, plan([1000, 500, 200]))
    assert rules_of(violations) == ["cn_max_two_levels"]
    assert "pays 3" in violations[0].message and "公通字〔2013〕37号" in violations[0].message


def test_a_two_level_plan_passes_under_cn():
    assert c.plan_violations(c.CN, plan([1000, 500])) == []
    assert c.plan_violations(c.CN, plan([1000])) == []


def test_a_third_level_at_zero_pays_nobody_and_passes():
    assert c.plan_violations(c.CN, plan([1000, 500, 0, 0])) == []


def test_a_rank_override_that_pays_a_third_level_counts():
    p = plan([1000, 500, 0], rank_overrides={"gold": {3: 100}})
    assert rules_of(c.plan_violations(c.CN, p)) == ["cn_max_two_levels"]


def test_a_team_bonus_counts_the_levels_of_volume_it_pays_on():
    ladder = (Tier(1_000, flat_minor=100),)
    one_down = BonusRules("CNY", basis="team", team_levels=1, ladder=ladder)
    two_down = BonusRules("CNY", basis="team", team_levels=2, ladder=ladder)
    assert c.plan_violations(c.CN, plan([1000], bonus=one_down)) == []  # own sales and the sponsored
    assert rules_of(c.plan_violations(c.CN, plan([1000], bonus=two_down))) == ["cn_max_two_levels"]
    personal = BonusRules("CNY", ladder=ladder)
    assert c.paid_levels(plan([1000, 500], bonus=personal)) == 2


def test_a_team_bonus_that_can_never_pay_counts_no_level():
    idle = BonusRules("CNY", basis="team", team_levels=5)
    assert c.plan_violations(c.CN, plan([1000, 500], bonus=idle)) == []


def program(**kw) -> RewardProgram:
    return RewardProgram(version=1, effective_from=T0, currency="CNY", **kw)


def test_a_cash_invite_reward_is_refused_under_cn():
    violations = c.program_violations(c.CN, program(advocate_reward=Reward(CREDIT, 1_000)))
    assert rules_of(violations) == ["cn_no_recruitment_reward"]
    assert "credit" in violations[0].message


def test_credit_for_the_new_member_is_refused_under_cn():
    assert rules_of(c.program_violations(c.CN, program(friend_reward=Reward(CREDIT, 500)))) == [
        "cn_no_recruitment_reward"
    ]


def test_an_invite_reward_without_a_purchase_is_refused_under_cn():
    assert rules_of(c.program_violations(c.CN, program(min_order_minor=0))) == ["cn_no_recruitment_reward"]


def test_coupons_and_points_on_a_purchase_pass_under_cn():
    assert c.program_violations(c.CN, program()) == []  # the defaults: a coupon and points
    assert c.program_violations(c.CN, program(friend_reward=Reward(POINTS, 100))) == []
    # No reward at all is no reward for recruitment either.
    assert c.program_violations(c.CN, program(advocate_reward=Reward(CREDIT, 0), min_order_minor=0)) == []


def test_a_fee_to_join_is_refused_by_name_under_cn():
    violations = c.fee_violations(c.CN, ["levels_bps", "join_fee_minor"])
    assert rules_of(violations) == ["cn_no_join_fee"] and "join_fee_minor" in violations[0].message
    assert c.fee_violations(c.CN, ["levels_bps", "cap_bps"]) == []


def test_the_default_profile_changes_nothing():
    assert c.plan_violations(c.DEFAULT, plan([1000, 500, 200, 100])) == []
    assert c.program_violations(c.DEFAULT, program(advocate_reward=Reward(CREDIT, 1_000), min_order_minor=0)) == []
    assert c.fee_violations(c.DEFAULT, ["join_fee_minor"]) == []


def test_refusal_is_a_422_with_the_code_compliance_and_every_rule_in_its_message():
    with pytest.raises(c.Refused) as got:
        c.enforce(c.plan_violations(c.CN, plan([1, 1, 1])) + c.fee_violations(c.CN, ["fee"]))
    assert (got.value.status, got.value.code) == (422, "compliance")
    assert "cn_max_two_levels" in got.value.message and "cn_no_join_fee" in got.value.message


def test_the_profile_setting_takes_only_known_profiles():
    assert Settings.from_env({"UPLINE_COMPLIANCE_PROFILE": "cn"}).compliance_profile == "cn"
    assert Settings.from_env({}).compliance_profile == "default"
    with pytest.raises(ValueError, match="compliance profile"):
        Settings.from_env({"UPLINE_COMPLIANCE_PROFILE": "eu"})


# ---- the report ----------------------------------------------------------------------------------

def entry(kind, partner, level, amount, currency="CNY", **kw) -> Entry:
    return Entry(f"{partner}-{kind}-{level}-{amount}", kind, partner, "o", level, amount, currency, 1, 0, T0, T0,
                 **kw)


def test_the_report_splits_own_sales_from_downline_and_counts_earners_per_level():
    entries = [
        entry(COMMISSION, "A", 1, 1_000), entry(COMMISSION, "A", 2, 300),
        entry(COMMISSION, "B", 1, 500), entry(REVERSAL, "B", 1, -500),  # B's sale refunded: no earner
        entry(COMMISSION, "C", 2, 200),
        entry(BONUS, "A", 0, 100, trace={"basis": "personal"}),
        entry(BONUS, "C", 0, 50, trace={"basis": "team"}),
    ]
    r = c.report("2026-08", c.CN, entries)
    assert r["depth"] == [
        {"level": 1, "earners": 1, "amounts_minor": {"CNY": 1_000}},
        {"level": 2, "earners": 2, "amounts_minor": {"CNY": 500}},
    ]
    split = {p["partner_id"]: (p["own_minor"], p["downline_minor"], p["own_share_bps"]) for p in r["partners"]}
    assert split == {"A": (1_100, 300, 1_100 * 10_000 // 1_400), "B": (0, 0, None), "C": (0, 250, 0)}
    assert r["recruitment_only_minor"] == {} and r["violations"] == []


def test_the_report_flags_a_third_level_paid_under_cn_but_not_under_default():
    entries = [entry(COMMISSION, "A", 3, 100)]
    assert rules_of(c.report_violations(c.CN, c.report("2026-08", c.CN, entries)["depth"], {})) == [
        "cn_max_two_levels"
    ]
    assert c.report("2026-08", c.DEFAULT, entries)["violations"] == []


def test_income_of_a_kind_tied_to_no_sale_is_recruitment_only():
    e = replace(entry(COMMISSION, "A", 0, 700), kind="signup_bonus")
    r = c.report("2026-08", c.CN, [e])
    assert r["recruitment_only_minor"] == {"CNY": 700}
    assert [v["rule"] for v in r["violations"]] == ["cn_no_recruitment_reward"]
