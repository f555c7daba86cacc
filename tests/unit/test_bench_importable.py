"""bench/ stays importable and its pure CPU benchmark still runs the real domain (no timing checked)."""
from bench.bench_cpu import cpu_per_order, domain_inputs
from bench.harness import PLAN_CAP_BPS
from bench.run import discover


def test_the_cpu_benchmark_runs_one_capped_order_at_depth_ten():
    figures = cpu_per_order(iterations=2, repeats=1, depth=10)
    assert figures["levels_paid"] == 10
    # The bench plan's levels add up to more than its cap, so the order pays exactly the cap.
    assert figures["credited_minor"] == domain_inputs()["amount_minor"] * PLAN_CAP_BPS // 10_000
    assert figures["cpu_us_per_order_best"] > 0


def test_every_benchmark_module_registers_itself():
    names = {b.name for b in discover()}
    assert {"cpu_per_order", "round_trips", "cost_model", "attribution_throughput",
            "redirect_throughput", "settlement_scaling", "soak", "contention", "analytics_kpis"} <= names


def test_the_soak_refuses_a_run_whose_requests_did_not_do_their_work():
    import pytest

    from bench.bench_soak import _check

    _check({"click 302": 990, "click 429": 10, "order 201": 100})  # a few refusals: still a soak
    with pytest.raises(RuntimeError):
        _check({"click 302": 999, "order 500": 1})
    with pytest.raises(RuntimeError):
        _check({"click 302": 1000, "order 201": 90, "order 409": 10})
