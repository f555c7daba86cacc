"""Item 4: CPU per order - the pure domain work of one order at depth 10, no I/O - as a ratio to a
fixed calibration workload timed in the same run, loop for loop (issue 18 item 5: an absolute time
does not hold on a shared machine; the same load slows both sides alike)."""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
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

# The issue-4 target was 50 us per order, about 9% above the 45-47 us the order measured on a quiet
# machine once it worked out its periods (docs/performance.md). Restated in calibration units: the
# same code measured 1.31-1.39 calibrations per order on 2026-12-01 (load 10-11), so the bar keeps
# that margin above it: 1.5 calibrations per order, whatever the load.
TARGET_RATIO = 1.5


def calibration() -> int:
    """A fixed pure-Python workload, the yardstick of CPU time: never change it (a change moves every
    ratio). The same kinds of work as the domain: small dicts, string formatting, integer arithmetic,
    a sort with a key, attribute access on a frozen dataclass."""
    rows = [{"id": f"p{i:03d}", "amount": (i * 7919) % 1000, "rate": 100 + i % 17} for i in range(40)]
    rows.sort(key=lambda r: (r["amount"], r["id"]))
    acc = 0
    for r in rows:
        share = _Share(r["id"], r["amount"] * r["rate"])
        acc += share.units // 10_000 + len(share.partner)
    return acc


@dataclass(frozen=True)
class _Share:
    partner: str
    units: int


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
    comparison, wall time. Best and median loop of each. Each order loop is followed by a loop of
    the calibration workload, so both meet the same load; the ratio of their best loops (and the
    median of the loop-by-loop ratios) is the figure that holds from machine to machine."""
    inp = domain_inputs(depth)
    entries = one_order(inp)
    cpu, wall, calib, paired = [], [], [], []
    for _ in range(repeats):
        c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
        for _ in range(iterations):
            one_order(inp)
        cpu.append((time.thread_time_ns() - c0) / iterations / 1000)
        wall.append((time.perf_counter_ns() - w0) / iterations / 1000)
        c0 = time.thread_time_ns()
        for _ in range(iterations):
            calibration()
        calib.append((time.thread_time_ns() - c0) / iterations / 1000)
        paired.append(cpu[-1] / calib[-1])
    return {
        "depth": depth, "levels_paid": len(entries), "credited_minor": sum(e.amount_minor for e in entries),
        "ratio_vs_calibration": round(min(cpu) / min(calib), 3),
        "ratio_vs_calibration_median_of_pairs": round(statistics.median(paired), 3),
        "cpu_us_per_order_best": round(min(cpu), 2), "cpu_us_per_order_median": round(statistics.median(cpu), 2),
        "calibration_us_best": round(min(calib), 2), "calibration_us_median": round(statistics.median(calib), 2),
        "wall_us_per_order_best": round(min(wall), 2), "wall_us_per_order_median": round(statistics.median(wall), 2),
        "iterations": iterations, "repeats": repeats,
    }


@benchmark("cpu_per_order", order=10, needs_db=False)
def run(ctx: Any) -> Result:
    # Many short loops; the figure is the best loop's CPU time (as timeit advises: noise only adds).
    # A loaded machine still inflates CPU time (a busy sibling core, cold caches): see the medians.
    figures = cpu_per_order(iterations=200 if ctx.quick else 500, repeats=50 if ctx.quick else 200)
    # The absolute microseconds stay in the figures as information; the target is the ratio.
    return Result(figures, (Target("cpu_per_order_depth10_vs_calibration", figures["ratio_vs_calibration"],
                                   TARGET_RATIO),))
