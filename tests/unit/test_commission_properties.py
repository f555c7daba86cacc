"""Properties of the commission rules over random trees, plans, orders and refund sequences."""
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.commissions import compute_commissions, reversal_amounts
from chalicelib.domain.money import apply_bps, floor_units
from chalicelib.domain.plans import Plan
from chalicelib.domain.tree import STATUSES, Node

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)

nodes = st.builds(Node, partner_id=st.uuids().map(str), status=st.sampled_from(STATUSES),
                  rank=st.sampled_from(["base", "gold"]))
plans = st.builds(
    lambda levels, cap, gold: Plan(1, T0, tuple(levels), cap, {"gold": {1: gold}} if gold is not None else {}),
    st.lists(st.integers(0, 4000), min_size=1, max_size=10),
    st.one_of(st.none(), st.integers(0, 10000)),
    st.one_of(st.none(), st.integers(0, 4000)),
).filter(lambda p: p.cap_bps is not None or sum(p.levels_bps) + 4000 <= 10000)
amounts = st.integers(1, 10**10)


@st.composite
def refund_sequences(draw, amount):
    parts, left = [], amount
    while left > 0 and len(parts) < 6 and draw(st.booleans()):
        r = draw(st.integers(1, left))
        parts.append(r)
        left -= r
    if draw(st.booleans()) and left > 0:
        parts.append(left)  # finish with a full refund of what remains
    return parts


@settings(max_examples=400, deadline=None)
@given(amounts, nodes, st.lists(nodes, max_size=10), plans)
def test_parts_sum_exactly_to_the_cap_when_it_binds_and_never_exceed_it(amount, partner, upline, plan):
    lines = compute_commissions(amount, partner, upline, plan)
    total = sum(ln.amount_minor for ln in lines)
    if plan.cap_bps is not None:
        cap = floor_units(apply_bps(amount, plan.cap_bps))
        assert total <= cap
        if any(ln.capped for ln in lines):
            assert total == cap
    assert all(ln.amount_minor > 0 for ln in lines)
    assert len({ln.partner_id for ln in lines}) == len(lines)
    assert all(n.active for n in [partner, *upline] if n.partner_id in {ln.partner_id for ln in lines})


@settings(max_examples=400, deadline=None)
@given(st.data(), amounts, nodes, st.lists(nodes, max_size=10), plans)
def test_reversals_never_exceed_credits_and_a_full_refund_nets_to_zero(data, amount, partner, upline, plan):
    credited = [ln.amount_minor for ln in compute_commissions(amount, partner, upline, plan)]
    refunds = data.draw(refund_sequences(amount))
    reversed_total, refunded = [0] * len(credited), 0
    for r in refunds:
        step = reversal_amounts(credited, amount, refunded, r)
        assert all(x >= 0 for x in step)
        reversed_total = [a + b for a, b in zip(reversed_total, step)]
        refunded += r
        assert all(rv <= c for rv, c in zip(reversed_total, credited))
    if refunded == amount:
        assert reversed_total == credited
