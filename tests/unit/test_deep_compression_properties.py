"""Compression over deep chains with long inactive runs: the levels paid are those of a walk up the
whole chain, whatever the length of the stored upline snapshots.

The tree lives in a dictionary (tests/support/tree.py): the walk reads it through the one call it
makes (`uow.partners.recent`), and each partner's upline hint is built as enrolment builds it
(`child_upline`, cut at `max_depth`).
"""
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.commissions import compute_commissions
from chalicelib.domain.plans import Plan
from chalicelib.domain.tree import ACTIVE, Node
from chalicelib.domain.standing import TreeRules
from chalicelib.services.partners import chain_for
from tests.support.tree import TreeReads, build_chain

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@st.composite
def chains(draw):
    """Statuses from the root down, in runs: long inactive or terminated runs are the point."""
    runs = draw(st.lists(st.tuples(st.sampled_from([ACTIVE, ACTIVE, "inactive", "terminated"]),
                                   st.integers(1, 14)), min_size=1, max_size=8))
    statuses = [status for status, n in runs for _ in range(n)]
    ranks = draw(st.lists(st.sampled_from(["base", "gold"]), min_size=len(statuses), max_size=len(statuses)))
    return [Node(f"P{i:03d}", s, r) for i, (s, r) in enumerate(zip(statuses, ranks))]


def reference_levels(chain: list[Node], index: int, levels: int) -> list[str]:
    """Walk up the whole chain from the attributed partner; each next active partner takes a level."""
    walk = [chain[i] for i in range(index, -1, -1)]
    return [n.partner_id for n in walk if n.status == ACTIVE][:levels]


@settings(max_examples=400, deadline=None)
@given(st.data(), chains(), st.integers(1, 10))
def test_deep_chains_pay_the_next_active_ancestor_per_level_past_any_stored_upline(data, chain, max_depth):
    levels = data.draw(st.integers(1, max_depth))
    plan = Plan(1, T0, tuple(data.draw(st.lists(st.integers(1, 1000), min_size=levels, max_size=levels))),
                rank_overrides={"gold": {1: 1500}})
    index = data.draw(st.integers(0, len(chain) - 1))
    uow = TreeReads(build_chain(chain, max_depth))
    partner = uow.partners.partners[chain[index].partner_id]

    walked = chain_for(uow, partner, T0, plan.depth, TreeRules(max_depth))
    lines = compute_commissions(1_000_000, walked.nodes[0], walked.nodes[1:], plan)

    expected = reference_levels(chain, index, levels)
    assert [(ln.level, ln.partner_id) for ln in lines] == list(enumerate(expected, start=1))
    whole = compute_commissions(1_000_000, chain[index], [chain[i] for i in range(index - 1, -1, -1)], plan)
    assert lines == whole  # the same amounts and rates as on the whole chain
    # The walk is the true path upward, as far as compression needs it.
    assert [n.partner_id for n in walked.nodes] == [chain[i].partner_id for i in range(index, -1, -1)][
        :len(walked.nodes)]
    # One batch read for the stored hint; more only when compression needs ancestors past it.
    hinted = [partner.node_at(T0), *(chain[index - 1 - k] for k in range(len(partner.upline_ids)))]
    if sum(n.status == ACTIVE for n in hinted) >= levels or len(partner.upline_ids) < max_depth:
        assert uow.reads <= 1
    else:
        assert uow.reads >= 1
