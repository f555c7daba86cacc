"""Every worked example in docs/rules.md is what the code computes, so the page cannot drift.

Each `yaml` block in the page is one example; its `rule` names the check below that recomputes it
with the functions that pay partners. A block with an unknown rule, or a rule the page stops
illustrating, fails the test.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from chalicelib.domain import bonuses as b
from chalicelib.domain.attribution import AttributionRules, BindingRef, ClickRef, attribute
from chalicelib.domain.commissions import CommissionLine, compute_commissions, reversal_amounts
from chalicelib.domain.ledger import commission_entries, reversal_entry
from chalicelib.domain.money import apply_bps, bps_share_floor, bps_share_half_even
from chalicelib.domain.periods import Calendar
from chalicelib.domain.plans import Plan
from chalicelib.domain.settlement import Totals, settle_line
from chalicelib.domain.tree import Node
from chalicelib.domain.standing import TreeRules
from chalicelib.services.partners import chain_for
from tests.support.tree import TreeReads, build_chain

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
T0 = datetime(2020, 1, 1, tzinfo=timezone.utc)


def examples() -> list[dict[str, Any]]:
    blocks = re.findall(r"^```yaml\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.S | re.M)
    return [yaml.safe_load(block) for block in blocks]


def at(value: Any) -> datetime:
    """A time in the page: YAML reads an ISO timestamp as a datetime already; anything else is text."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def nodes(chain: list[str]) -> list[Node]:
    """'C inactive' or 'C gold' -> a node; a bare name is active with the base rank."""
    out = []
    for text in chain:
        name, *attrs = text.split()
        status = next((a for a in attrs if a in ("active", "inactive", "terminated")), "active")
        rank = next((a for a in attrs if a not in ("active", "inactive", "terminated")), "base")
        out.append(Node(name, status, rank))
    return out


def plan_of(ex: dict[str, Any]) -> Plan:
    p = ex["plan"]
    overrides = {rank: {int(lvl): bps for lvl, bps in levels.items()} for rank, levels in
                 p.get("rank_overrides", {}).items()}
    return Plan(1, T0, tuple(p["levels_bps"]), p.get("cap_bps"), overrides)


def ladder(ex: dict[str, Any]) -> tuple[b.Tier, ...]:
    return tuple(b.Tier(t["threshold_minor"], t.get("flat_minor"), t.get("rate_bps")) for t in ex["ladder"])


# ---- the checks, one per rule -------------------------------------------------------------------

def check_commission(ex: dict[str, Any]) -> None:
    plan, chain, amount = plan_of(ex), nodes(ex["chain"]), ex["order_minor"]
    upline = chain[1:]
    if "stored_ancestors" in ex:  # the partner stores only this many: the order reads past them
        depth = ex["stored_ancestors"]
        uow = TreeReads(build_chain(list(reversed(chain)), depth))
        partner = uow.partners.partners[chain[0].partner_id]
        assert len(partner.upline_ids) == depth
        stored = compute_commissions(amount, chain[0], chain[1:depth + 1], plan)
        assert {ln.partner_id: ln.amount_minor for ln in stored} == ex["stored_only_paid"]
        upline = list(chain_for(uow, partner, T0, plan.depth, TreeRules(depth)).nodes[1:])
    lines = compute_commissions(amount, chain[0], upline, plan)
    assert {ln.partner_id: ln.amount_minor for ln in lines} == ex["paid"]
    earners = [n for n in chain if n.active][:plan.depth]
    rates = [plan.rate_for(level, n.rank) for level, n in enumerate(earners, start=1)]
    if "exact_shares" in ex:
        assert [apply_bps(amount, r) for r in rates] == [Decimal(x) for x in ex["exact_shares"]]
    if "rounded_shares" in ex:
        assert [bps_share_half_even(amount, r) for r in rates] == ex["rounded_shares"]
    if "cap_exact" in ex:
        assert apply_bps(amount, plan.cap_bps) == Decimal(ex["cap_exact"])
    if "cap_minor" in ex:
        assert bps_share_floor(amount, plan.cap_bps) == ex["cap_minor"]
    if "capped" in ex:
        assert all(ln.capped == ex["capped"] for ln in lines)
        if ex["capped"]:
            assert sum(ln.amount_minor for ln in lines) == ex["cap_minor"]


def check_rounding(ex: dict[str, Any]) -> None:
    plan = Plan(1, T0, (ex["rate_bps"],))
    for case in ex["cases"]:
        assert apply_bps(case["order_minor"], ex["rate_bps"]) == Decimal(case["exact"])
        assert compute_commissions(case["order_minor"], Node("D"), (), plan)[0].amount_minor == case["paid"]


def check_refund(ex: dict[str, Any]) -> None:
    refunded = 0
    total = [0] * len(ex["credited"])
    for step in ex["refunds"]:
        got = reversal_amounts(ex["credited"], ex["order_minor"], refunded, step["refund_minor"])
        assert got == step["reversed"]
        refunded += step["refund_minor"]
        total = [t + g for t, g in zip(total, got)]
    if refunded == ex["order_minor"]:
        assert total == ex["credited"]


def check_refund_timing(ex: dict[str, Any]) -> None:
    cal = Calendar()
    ordered_at = at(ex["ordered_at"])
    line = CommissionLine(1, "D", "base", 1000, 1200)
    period = cal.landing_period(ordered_at, ordered_at)
    [entry] = commission_entries("o1", "USD", ordered_at, 1, ex["holding_days"], [line], cal, period)
    assert entry.settles_in == str(ex["commission_settles_in"])
    recorded = at(ex["refund_recorded_at"])
    # A refund lands where the order's time and the refund's recording put it (services/orders.py).
    landing = cal.landing_period(ordered_at, recorded)
    reversal = reversal_entry(entry, "r1", 300, recorded, cal, landing)
    assert (reversal.period, reversal.settles_in) == (str(ex["reversal_lands_in"]), str(ex["reversal_settles_in"]))


def check_landing(ex: dict[str, Any]) -> None:
    cal = Calendar(ex["tz"], ex["lock_days"])
    for case in ex["cases"]:
        assert cal.landing_period(at(case["at"]), at(case["recorded_at"])) == str(case["lands_in"])


def check_holding(ex: dict[str, Any]) -> None:
    cal = Calendar(ex["tz"], ex["lock_days"])
    for case in ex["cases"]:
        ordered_at = at(case["ordered_at"])
        line = CommissionLine(1, "D", "base", 1000, 1200)
        [entry] = commission_entries("o1", "USD", ordered_at, 1, case["holding_days"], [line], cal,
                                     cal.period_of(ordered_at))
        assert entry.payable_at == at(case["payable_at"]) == ordered_at + timedelta(days=case["holding_days"])
        assert entry.settles_in == str(case["settles_in"])


def check_payout(ex: dict[str, Any]) -> None:
    carried = 0
    for step in ex["periods"]:
        assert step["carried_in"] == carried
        line = settle_line("2026-08", "D", "USD", Totals(commissions_minor=step["entries_minor"], entry_count=1),
                           carried, ex["min_payout_minor"])
        assert (line.payout_minor, line.carried_out_minor) == (step["payout"], step["carried_out"])
        carried = line.carried_out_minor


def check_threshold_bonus(ex: dict[str, Any]) -> None:
    volume = ex["sales_minor"] - ex["refunds_minor"]
    assert volume == ex["volume_minor"]
    bonus = b.threshold_bonus(b.Volume(volume, 0), b.BonusRules("USD", ladder=ladder(ex)))
    assert (bonus.amount_minor if bonus else 0) == ex["bonus_minor"]


def check_overachievement(ex: dict[str, Any]) -> None:
    rules = b.BonusRules("USD", overachievement_bps=ex["rate_bps"], overachievement_cap_minor=ex.get("cap_minor"))
    bonus = b.overachievement_bonus(b.Volume(ex["volume_minor"], 0), ex["target_minor"], rules)
    assert (bonus.amount_minor if bonus else 0) == ex["bonus_minor"]


def check_team_volume(ex: dict[str, Any]) -> None:
    chain = [n.partner_id for n in nodes(ex["chain"])]
    uplines = {pid: chain[i + 1:] for i, pid in enumerate(chain)}
    assert b.team_volumes(ex["personal_minor"], uplines, ex["team_levels"]) == ex["team_minor"]


def check_rank(ex: dict[str, Any]) -> None:
    rules = b.BonusRules("USD", ranks=tuple(b.RankRule(r["rank"], r.get("min_personal_minor", 0),
                                                       r.get("min_team_minor", 0)) for r in ex["ranks"]))
    for case in ex["cases"]:
        volume = b.Volume(case["personal_minor"], case["team_minor"])
        assert b.rank_at_close(volume, "active", "base", rules, "base") == case["rank"]


def check_not_active(ex: dict[str, Any]) -> None:
    rules = b.BonusRules("USD", ladder=ladder(ex), overachievement_bps=ex["overachievement_bps"],
                         ranks=tuple(b.RankRule(r["rank"], r.get("min_personal_minor", 0), r.get("min_team_minor", 0))
                                     for r in ex["ranks"]))
    volume = b.Volume(ex["volume_minor"], ex["volume_minor"])
    for status, want in ((ex["status"], ex), ("active", ex["if_active"])):
        found = b.bonuses_at_close(volume, status, ex["rank_before"], ex["target_minor"], rules)
        assert sum(x.amount_minor for x in found) == want["bonus_minor"]
        assert b.rank_at_close(volume, status, ex["rank_before"], rules, "base") == want["rank_after"]


def check_attribution(ex: dict[str, Any]) -> None:
    rules = AttributionRules(window=timedelta(days=ex["window_days"]))
    ordered_at = T0 + timedelta(days=100)
    for case in ex["cases"]:
        click = case.get("click")
        click_ref = ClickRef("c_x", click["partner"], ordered_at - timedelta(days=click["days_before"])) \
            if click else None
        binding = BindingRef(case["binding"], None) if case.get("binding") else None
        found = attribute(ordered_at, click_ref, case.get("referral_code"), binding, rules, case.get("coupon"))
        assert (found.partner_id if found else None, found.source if found else None) == \
            (case["partner"], case["source"]), case


CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "attribution": check_attribution, "commission": check_commission, "rounding": check_rounding, "refund": check_refund,
    "refund timing": check_refund_timing, "landing": check_landing, "holding": check_holding,
    "payout": check_payout, "threshold bonus": check_threshold_bonus, "overachievement": check_overachievement,
    "team volume": check_team_volume, "rank": check_rank, "not active": check_not_active,
}


@pytest.mark.parametrize("example", examples(), ids=lambda ex: ex.get("example", "?"))
def test_each_worked_example_in_the_rules_doc_is_what_the_code_computes(example):
    assert example.get("rule") in CHECKS, f"no check for rule {example.get('rule')!r}"
    CHECKS[example["rule"]](example)


def test_the_rules_doc_illustrates_every_rule_and_is_linked_from_the_readme():
    assert {ex.get("rule") for ex in examples()} == set(CHECKS)
    assert "docs/rules.md" in (DOC.parents[1] / "README.md").read_text(encoding="utf-8")
