"""The contention benchmark's harness (bench/contention.py) on a small tree: a run drives the real app
through the emulation and reports every figure, and each run starts from the same program."""
from __future__ import annotations

import pytest

from bench import contention as ct
from bench.harness import Lambda


@pytest.fixture(scope="module")
def world():
    w = ct.build_world(partners=300, seed=3)
    ct.publish_member_program(w, Lambda())
    return w


def _state(world):
    t = world.memory.tables[ct.TABLE]
    return (dict(t.items), {k: list(v) for k, v in t.sort_keys.items()},
            {i: {k: list(v) for k, v in rows.items()} for i, rows in t.index_rows.items()})


def test_a_small_run_drives_every_kind_of_request_and_reports_every_figure(world):
    run = ct.run(world, "kol", 100.0, measure_seconds=0.3, warmup=0.05, cooldown=0.05, seed=5)
    figures = ct.summarize(run)
    assert set(figures["requests"]) == {"order", "click", "refund", "signup"}
    assert figures["measured_orders"] > 10
    assert 0.0 <= figures["conflict_share"] <= 1.0 and 0.0 <= figures["failed_order_share"] <= 1.0
    assert figures["p50_ms"] <= figures["p99_ms"]
    # No item is shared by two order transactions in this design: no hot item (bench/contention.summarize).
    assert figures["hot_item"] is None and figures["hot_share"] == 0.0
    assert figures["write_units_per_order"] > 0 and figures["table_wcu_per_s_peak"] > 0
    for index in ("table", "GSI1", "GSI2"):
        assert figures[f"hottest_key_requested_wcu_per_s_{index}"] >= figures[f"hottest_key_wcu_per_s_{index}"]
    # Every click went through the KOL's link, and its clicks index is sharded: they land on several
    # index partitions, not one.
    kol = f"CLICKS#{world.kol.partner_id}#"
    shards = [c.peak for (index, key), c in run.client.counters.consumed.items() if index == "GSI1" and key.startswith(kol)]
    assert len(shards) > 1 and all(peak > 0 for peak in shards)


def test_every_run_starts_from_the_same_program(world):
    world.restore()
    before = _state(world)
    ct.run(world, "uniform", 100.0, measure_seconds=0.2, warmup=0.05, cooldown=0.05, seed=9)
    assert _state(world) != before
    world.restore()
    assert _state(world) == before


def test_units_by_depth_grow_with_the_depth_of_the_order(world):
    depths = tuple(sorted({d for d in world.depth.values() if d in (1, 3, 5)}))
    units = ct.units_by_depth(world, depths)
    writes = [units[f"depth{d}"]["write_units"] for d in depths]
    assert writes == sorted(writes) and writes[0] > 0
