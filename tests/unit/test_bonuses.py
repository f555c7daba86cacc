"""The threshold ladder, overachievement, ranks and progress: pure rules, no AWS."""
import pytest

from chalicelib.domain import bonuses as b
from chalicelib.domain.errors import InvalidInput

LADDER = (b.Tier(1_000_000, flat_minor=20_000), b.Tier(5_000_000, flat_minor=150_000),
          b.Tier(10_000_000, flat_minor=400_000))
WORKED = b.BonusRules(currency="USD", ladder=LADDER, overachievement_bps=500)


def test_worked_example_ladder_pays_the_highest_tier_reached_on_volume_net_of_refunds():
    volume = b.Volume(personal_minor=6_200_000 - 200_000, team_minor=0)  # 62,000 sales less 2,000 refunds
    bonus = b.threshold_bonus(volume, WORKED)
    assert bonus.amount_minor == 150_000  # 1,500.00
    assert bonus.trace == {"basis": "personal", "volume_minor": 6_000_000, "tier_threshold_minor": 5_000_000,
                           "form": "flat", "flat_minor": 150_000, "rate_bps": None}


def test_worked_example_overachievement_is_the_rate_on_volume_above_the_target():
    bonus = b.overachievement_bonus(b.Volume(6_000_000, 0), 4_000_000, WORKED, "set for the partner")
    assert bonus.amount_minor == 100_000  # 5% of 20,000 = 1,000.00
    assert bonus.trace["above_target_minor"] == 2_000_000 and bonus.trace["target_minor"] == 4_000_000


def test_worked_example_earns_both_bonuses():
    found = b.bonuses_for(b.Volume(6_000_000, 0), "base", 4_000_000, WORKED)
    assert [(x.kind, x.amount_minor) for x in found] == [("threshold", 150_000), ("overachievement", 100_000)]


def test_retroactive_rate_applies_to_the_whole_volume_once_a_tier_is_reached():
    rules = b.BonusRules(currency="USD", ladder=(b.Tier(1_000_000, rate_bps=100), b.Tier(5_000_000, rate_bps=300)))
    assert b.threshold_bonus(b.Volume(999_999, 0), rules) is None
    assert b.threshold_bonus(b.Volume(1_000_000, 0), rules).amount_minor == 10_000
    # 3% of all 60,000.00 once the 50,000 tier is reached, not only of the part above it
    assert b.threshold_bonus(b.Volume(6_000_000, 0), rules).amount_minor == 180_000


def test_rate_tiers_round_half_even_to_the_minor_unit():
    rules = b.BonusRules(currency="USD", ladder=(b.Tier(100, rate_bps=5),))
    assert b.threshold_bonus(b.Volume(1_000, 0), rules) is None  # 0.5 rounds to 0: no entry
    assert b.threshold_bonus(b.Volume(3_000, 0), rules).amount_minor == 2  # 1.5 -> 2


def test_overachievement_cap_binds_and_the_trace_says_so():
    rules = b.BonusRules(currency="USD", overachievement_bps=1000, overachievement_cap_minor=50_000)
    bonus = b.overachievement_bonus(b.Volume(10_000_000, 0), 4_000_000, rules)
    assert bonus.amount_minor == 50_000 and bonus.trace["capped"] is True


def test_no_target_or_volume_below_it_earns_no_overachievement():
    assert b.overachievement_bonus(b.Volume(100, 0), None, WORKED) is None
    assert b.overachievement_bonus(b.Volume(100, 0), 200, WORKED) is None


def test_team_volume_counts_own_sales_and_the_downline_to_n_levels_only():
    personal = {"A": 100, "B": 200, "C": 300, "D": 400}
    uplines = {"B": ["A"], "C": ["B", "A"], "D": ["C", "B", "A"]}  # A <- B <- C <- D
    team = b.team_volumes(personal, uplines, levels=2)
    assert team == {"A": 100 + 200 + 300, "B": 200 + 300 + 400, "C": 300 + 400, "D": 400}


def test_team_basis_measures_the_ladder_on_team_volume():
    rules = b.BonusRules(currency="USD", basis="team", team_levels=2, ladder=LADDER)
    bonus = b.threshold_bonus(b.Volume(personal_minor=10, team_minor=5_000_000), rules)
    assert bonus.amount_minor == 150_000 and bonus.trace["team_levels"] == 2


def test_rank_is_the_highest_whose_personal_and_team_minimums_are_met():
    rules = b.BonusRules(currency="USD", ranks=(b.RankRule("gold", 1_000_000, 5_000_000),
                                                b.RankRule("silver", 500_000, 0)))
    assert b.evaluate_rank(b.Volume(1_000_000, 5_000_000), rules, "base") == "gold"
    assert b.evaluate_rank(b.Volume(1_000_000, 4_999_999), rules, "base") == "silver"
    assert b.evaluate_rank(b.Volume(499_999, 9_000_000), rules, "base") == "base"


def test_an_explicit_target_beats_the_rank_default():
    rules = b.BonusRules(currency="USD", default_targets={"gold": 3_000_000})
    assert b.target_for("gold", None, rules) == (3_000_000, "default for rank gold")
    assert b.target_for("gold", 1_000, rules) == (1_000, "set for the partner")
    assert b.target_for("base", None, rules) == (None, "none")


def test_progress_shows_the_next_tier_what_it_needs_and_an_estimate():
    p = b.progress(b.Volume(4_600_000, 0), "base", 4_000_000, WORKED)
    assert p["next_tier_minor"] == 5_000_000 and p["needed_for_next_tier_minor"] == 400_000
    assert p["tier_reached_minor"] == 1_000_000 and p["overachievement_minor"] == 600_000
    assert p["estimate"] is True and p["estimated_bonus_total_minor"] == 20_000 + 30_000


@pytest.mark.parametrize("rules", [
    b.BonusRules(currency="USD", ladder=(b.Tier(500, flat_minor=1), b.Tier(100, flat_minor=2))),
    b.BonusRules(currency="USD", ladder=(b.Tier(100, flat_minor=1, rate_bps=5),)),
    b.BonusRules(currency="USD", ladder=(b.Tier(100),)),
    b.BonusRules(currency="USD", basis="team", team_levels=0),
    b.BonusRules(currency="USD", overachievement_bps=10_001),
])
def test_inconsistent_bonus_rules_are_refused(rules):
    with pytest.raises(InvalidInput):
        b.validate(rules, max_depth=10)


# ---- who takes part: the rule that agrees with compression (docs/rules.md, "Bonuses and ranks") ----

RANKED = b.BonusRules(currency="USD", ladder=LADDER, overachievement_bps=500,
                      ranks=(b.RankRule("gold", min_personal_minor=5_000_000),))


@pytest.mark.parametrize("status", ["inactive", "terminated", None])
def test_a_partner_not_active_at_the_close_earns_no_bonus_whatever_its_sales(status):
    # The case: 62,000.00 of personal sales and a 40,000.00 target, but not active.
    assert b.bonuses_at_close(b.Volume(6_200_000, 6_200_000), status, "base", 4_000_000, RANKED) == []
    active = b.bonuses_at_close(b.Volume(6_200_000, 6_200_000), "active", "base", 4_000_000, RANKED)
    assert [(x.kind, x.amount_minor) for x in active] == [("threshold", 150_000), ("overachievement", 110_000)]


@pytest.mark.parametrize("status", ["inactive", "terminated"])
def test_a_partner_not_active_at_the_close_gains_no_rank_and_keeps_the_one_it_had(status):
    assert b.rank_at_close(b.Volume(6_200_000, 0), status, "base", RANKED, "base") == "base"
    assert b.rank_at_close(b.Volume(0, 0), status, "gold", RANKED, "base") == "gold"
    assert b.rank_at_close(b.Volume(6_200_000, 0), "active", "base", RANKED, "base") == "gold"
    assert b.rank_at_close(b.Volume(0, 0), "active", "gold", RANKED, "base") == "base"


def test_mid_period_progress_of_a_partner_not_active_estimates_no_bonus():
    p = b.progress(b.Volume(6_200_000, 0), "base", 4_000_000, RANKED, status="terminated")
    assert p["earns_bonuses"] is False and p["estimated_bonuses"] == [] and p["estimated_bonus_total_minor"] == 0
    assert p["volume_minor"] == 6_200_000  # its standing is still shown
