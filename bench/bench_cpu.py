"""Item 4: CPU per order - the pure domain work of one order at depth 10, no I/O."""
from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib.domain.attribution import AttributionRules, ClickRef, attribute
from chalicelib.domain.commissions import compute_commissions
from chalicelib.domain.ledger import commission_entries
from chalicelib.domain.periods import Calendar
from chalicelib.domain.plans import Plan, plan_in_force
from chalicelib.domain.tree import Node

from .harness import PLAN_CAP_BPS, PLAN_EFFECTIVE_FROM, PLAN_LEVELS_BPS
from .registry import Result, Target, benchmark

TARGET_US = 50.0


def domain_inputs(depth: int = 10, inactive_every: int = 4) -> dict[str, Any]:
    """A partner with `depth` ancestors, every `inactive_every`-th one inactive (so compression
    has work to do and the chain reaches past it), three plan versions, a click in the window."""
    t0 = PLAN_EFFECTIVE_FROM
    plans = [Plan(v, t0 + timedelta(days=30 * (v - 1)), tuple(PLAN_LEVELS_BPS), PLAN_CAP_BPS,
                  {"gold": {1: 1200, 2: 600}}) for v in (1, 2, 3)]
    upline = tuple(Node(f"P-U{i:02d}", "inactive" if i % inactive_every == 0 else "active",
                        "gold" if i % 3 == 0 else "base") for i in range(1, depth + 4))
    ordered_at = datetime(2024, 6, 1, 12, tzinfo=timezone.utc)
    return {
        "plans": plans, "partner": Node("P-LEAF"), "upline": upline, "ordered_at": ordered_at,
        "click": ClickRef("c_bench", "P-LEAF", ordered_at - timedelta(hours=2)), "rules": AttributionRules(),
        "amount_minor": 123_457, "calendar": Calendar("Asia/Shanghai", 5),
    }


def one_order(inp: dict[str, Any]) -> list:
    """Plan lookup, attribution, compression, per-level rates, rounding, the cap's allocation, the
    period the entries land and settle in, and the ledger entries: everything the order path
    decides between its reads and its write."""
    plan = plan_in_force(inp["plans"], inp["ordered_at"])
    found = attribute(inp["ordered_at"], inp["click"], None, None, inp["rules"])
    lines = compute_commissions(inp["amount_minor"], inp["partner"], inp["upline"], plan)
    cal = inp["calendar"]
    period = cal.landing_period(inp["ordered_at"], inp["ordered_at"])
    return commission_entries("o-bench", "USD", inp["ordered_at"], plan.version, plan.holding_days, lines,
                              cal, period) if found else []


def cpu_per_order(iterations: int = 2000, repeats: int = 7, depth: int = 10) -> dict[str, Any]:
    """Microseconds per order over `repeats` loops of `iterations` orders: CPU time of this thread
    (what the order costs the processor, not counting time the thread waited for a core) and, for
    comparison, wall time. Best and median loop of each."""
    inp = domain_inputs(depth)
    entries = one_order(inp)
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
        for _ in range(iterations):
            one_order(inp)
        cpu.append((time.thread_time_ns() - c0) / iterations / 1000)
        wall.append((time.perf_counter_ns() - w0) / iterations / 1000)
    return {
        "depth": depth, "levels_paid": len(entries), "credited_minor": sum(e.amount_minor for e in entries),
        "cpu_us_per_order_best": round(min(cpu), 2), "cpu_us_per_order_median": round(statistics.median(cpu), 2),
        "wall_us_per_order_best": round(min(wall), 2), "wall_us_per_order_median": round(statistics.median(wall), 2),
        "iterations": iterations, "repeats": repeats,
    }


@benchmark("cpu_per_order", order=10, needs_db=False)
def run(ctx: Any) -> Result:
    # Many short loops; the figure is the best loop's CPU time (as timeit advises: noise only adds).
    # A loaded machine still inflates CPU time (a busy sibling core, cold caches): see the medians.
    figures = cpu_per_order(iterations=200 if ctx.quick else 500, repeats=50 if ctx.quick else 200)
    return Result(figures, (Target("cpu_us_per_order_depth10", figures["cpu_us_per_order_best"], TARGET_US),))
