"""Scheduled effectivity: standings at an instant, scheduling a change, and walking the chain at t."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from chalicelib.domain.errors import Unprocessable
from chalicelib.domain.standing import Standing, chain_at, schedule_change, standing_at

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
FENCE = timedelta(minutes=15)


@dataclass(frozen=True)
class Item:
    partner_id: str
    schedule: tuple[Standing, ...]


def test_the_standing_in_effect_is_the_last_one_that_has_begun():
    s = (Standing(T0, "active", "base", "A"), Standing(T0 + timedelta(days=1), "terminated", "base", "A"))
    assert standing_at(s, T0 - timedelta(seconds=1)) is None
    assert standing_at(s, T0).status == "active"
    assert standing_at(s, T0 + timedelta(days=1) - timedelta(microseconds=1)).status == "active"
    assert standing_at(s, T0 + timedelta(days=1)).status == "terminated"


def test_a_change_takes_effect_no_sooner_than_the_fence_and_keeps_what_it_does_not_change():
    s = (Standing(T0, "active", "gold", "A"),)
    now = T0 + timedelta(days=3)
    change = schedule_change(s, now, FENCE, status="inactive")
    assert change == Standing(now + FENCE, "inactive", "gold", "A")
    with pytest.raises(Unprocessable) as refused:
        schedule_change(s, now, FENCE, now + FENCE - timedelta(seconds=1), status="inactive")
    assert refused.value.code == "too_soon"


def test_changes_apply_in_the_order_they_take_effect():
    later = T0 + timedelta(days=30)
    s = (Standing(T0, "active", "base", "A"), Standing(later, "terminated", "base", "A"))
    with pytest.raises(Unprocessable):
        schedule_change(s, T0 + timedelta(days=1), FENCE, rank="gold")
    after = schedule_change(s, T0 + timedelta(days=1), FENCE, later + timedelta(days=1), sponsor_id="B", move=True)
    assert after == Standing(later + timedelta(days=1), "terminated", "base", "B")


def _tree(*links: tuple[str, str | None, str]) -> dict[str, Item]:
    return {p: Item(p, (Standing(T0, status, "base", sponsor),)) for p, sponsor, status in links}


def test_the_chain_skips_inactive_ancestors_until_the_levels_are_filled():
    items = _tree(("P", "A", "active"), ("A", "B", "inactive"), ("B", "C", "active"), ("C", "D", "active"),
                  ("D", None, "active"))
    chain = chain_at("P", items, T0, active_levels=3)
    assert [n.partner_id for n in chain.nodes] == ["P", "A", "B", "C"] and chain.missing is None


def test_the_chain_names_the_first_partner_it_has_not_read():
    items = _tree(("P", "A", "active"), ("A", "B", "inactive"))
    chain = chain_at("P", items, T0, active_levels=5)
    assert [n.partner_id for n in chain.nodes] == ["P", "A"] and chain.missing == "B"


def test_a_move_changes_the_chain_only_from_its_instant():
    move_at = T0 + timedelta(days=2)
    items = _tree(("A", "OLD", "active"), ("OLD", None, "active"), ("NEW", None, "active"))
    items["P"] = Item("P", (Standing(T0, "active", "base", "A"),))
    items["A"] = Item("A", (Standing(T0, "active", "base", "OLD"), Standing(move_at, "active", "base", "NEW")))
    before = chain_at("P", items, move_at - timedelta(microseconds=1), active_levels=5)
    after = chain_at("P", items, move_at, active_levels=5)
    assert [n.partner_id for n in before.nodes] == ["P", "A", "OLD"]
    assert [n.partner_id for n in after.nodes] == ["P", "A", "NEW"]


def test_a_cycle_in_corrupt_data_ends_the_walk():
    items = _tree(("P", "A", "active"), ("A", "P", "active"))
    assert [n.partner_id for n in chain_at("P", items, T0, active_levels=5).nodes] == ["P", "A"]


@given(st.lists(st.booleans(), min_size=1, max_size=40), st.integers(1, 10))
def test_the_walk_collects_exactly_the_ancestors_compression_needs(actives, levels):
    ids = [f"N{i}" for i in range(len(actives))]
    items = {pid: Item(pid, (Standing(T0, "active" if a else "inactive", "base", ids[i + 1] if i + 1 < len(ids)
                                      else None),)) for i, (pid, a) in enumerate(zip(ids, actives))}
    chain = chain_at(ids[0], items, T0, active_levels=levels)
    # reference: walk everything, then cut after the `levels`-th active partner
    wanted, count = [], 0
    for pid, a in zip(ids, actives):
        wanted.append(pid)
        count += a
        if count >= levels and a:
            break
    assert [n.partner_id for n in chain.nodes] == wanted and chain.missing is None
