from datetime import datetime, timezone

import pytest

from chalicelib.domain.commissions import compute_commissions, reversal_amounts
from chalicelib.domain.plans import Plan
from chalicelib.domain.tree import Node

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
PLAN = Plan(1, T0, (1000, 500, 200), cap_bps=2000)

A, B, C, D = (Node(f"P-{x}") for x in "ABCD")


def amounts(lines):
    return {ln.partner_id: ln.amount_minor for ln in lines}


def test_worked_example_credits_three_levels_and_not_the_fourth():
    lines = compute_commissions(12000, D, (C, B, A), PLAN)
    assert amounts(lines) == {"P-D": 1200, "P-C": 600, "P-B": 240}
    assert [ln.level for ln in lines] == [1, 2, 3]


def test_inactive_upline_is_compressed_and_the_next_active_ancestor_takes_its_level():
    inactive_c = Node("P-C", status="inactive")
    lines = compute_commissions(12000, D, (inactive_c, B, A), PLAN)
    assert amounts(lines) == {"P-D": 1200, "P-B": 600, "P-A": 240}
    assert [(ln.partner_id, ln.level) for ln in lines] == [("P-D", 1), ("P-B", 2), ("P-A", 3)]


def test_terminated_attributed_partner_earns_nothing_and_its_upline_moves_up():
    lines = compute_commissions(10000, Node("P-D", status="terminated"), (C, B, A), PLAN)
    assert amounts(lines) == {"P-C": 1000, "P-B": 500, "P-A": 200}


def test_each_level_rounds_half_even_to_the_minor_unit():
    # 4550 * 5% = 227.5 -> 228 (even); 4530 * 5% = 226.5 -> 226 (even)
    plan = Plan(1, T0, (500,))
    assert compute_commissions(4550, A, (), plan)[0].amount_minor == 228
    assert compute_commissions(4530, A, (), plan)[0].amount_minor == 226


def test_binding_cap_is_split_by_largest_remainder_and_sums_exactly_to_the_cap():
    plan = Plan(1, T0, (1500, 1000, 500), cap_bps=2000)
    lines = compute_commissions(1001, D, (C, B), plan)
    # uncapped: 150.15, 100.1, 50.05 (rounded 150+100+50 = 300) > cap floor(200.2) = 200
    assert sum(ln.amount_minor for ln in lines) == 200
    assert [ln.amount_minor for ln in lines] == [100, 67, 33]
    assert all(ln.capped for ln in lines)


def test_rank_override_changes_only_that_ranks_rate():
    plan = Plan(1, T0, (1000, 500), rank_overrides={"gold": {2: 800}})
    lines = compute_commissions(10000, D, (Node("P-C", rank="gold"),), plan)
    assert amounts(lines) == {"P-D": 1000, "P-C": 800}


def test_worked_example_partial_refund_then_the_rest_nets_every_entry_to_zero():
    credited = [1200, 600, 240]
    first = reversal_amounts(credited, 12000, 0, 3000)
    assert first == [300, 150, 60]
    second = reversal_amounts(credited, 12000, 3000, 9000)
    assert [c - a - b for c, a, b in zip(credited, first, second)] == [0, 0, 0]


@pytest.mark.parametrize("refunds", [[1, 1, 1], [3333, 3333, 3334], [7, 9993]])
def test_uneven_partial_refunds_never_reverse_more_than_credited(refunds):
    credited = [1001, 333]
    done = 0
    total = [0, 0]
    for r in refunds:
        total = [t + x for t, x in zip(total, reversal_amounts(credited, 10000, done, r))]
        done += r
        assert all(t <= c for t, c in zip(total, credited))
    assert total == credited if done == 10000 else True
