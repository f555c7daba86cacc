"""Item 1: DynamoDB round trips per order at tree depth 1, 5 and 10, for each attribution source,
and per click. Counted on the app's own client while one real request runs through the app."""
from __future__ import annotations

import json
from typing import Any

from chalicelib import bootstrap

from .harness import Context, Lambda, Meter, click_id_of, new_link, seed_program
from .registry import Result, Target, benchmark

DEPTHS = (1, 5, 10)
# referral_code: the code was already resolved by this process (a warm Lambda); referral_code_cold:
# the first order that names it in this process, which must also read the code.
SOURCES = ("click", "referral_code", "referral_code_cold", "binding")


def measure_order(ctx: Context, app: Lambda, meter: Meter, depth: int, source: str, tag: str) -> dict[str, Any]:
    """One attributed order through the webhook, metered. Setup calls are not counted."""
    repo = bootstrap.uow()
    # A chain of its own per case, so no case finds a code another case already resolved.
    codes = seed_program(repo, depth, prefix=f"{tag}{SOURCES.index(source)}")
    leaf = codes[-1]
    customer = f"cust-{tag}-{source}-{depth}"
    extra: dict[str, Any] = {}
    if source == "click":
        extra["click_id"] = click_id_of(app(app.click_event(new_link(repo, leaf))))
    elif source == "referral_code":
        warm = app(app.order_event(f"{tag}-warm-{source}-{depth}", customer + "-w", 1000, referral_code=leaf))
        assert warm["statusCode"] == 201, warm
        extra["referral_code"] = leaf
    elif source == "referral_code_cold":
        extra["referral_code"] = leaf
    else:  # a first order binds the customer; the measured one is attributed by that binding
        first = app(app.order_event(f"{tag}-first-{source}-{depth}", customer, 1000, referral_code=leaf))
        assert first["statusCode"] == 201, first
    event = app.order_event(f"{tag}-o-{source}-{depth}", customer, 100_000, **extra)
    with meter:
        response = app(event)
    if response["statusCode"] != 201:
        raise RuntimeError(f"the measured order failed: {response}")
    return {"reads": meter.reads, "writes": meter.writes, "ops": dict(meter.ops),
            "read_units": meter.read_units, "write_units": meter.write_units,
            "order_id": json.loads(event["body"])["order_id"],
            "transaction": meter.captured.get("TransactWriteItems", [None])[0]}


def measure_click(app: Lambda, meter: Meter, code: str) -> dict[str, Any]:
    """One warm click (the code already resolved once in this process), metered."""
    app(app.click_event(code))
    with meter:
        response = app(app.click_event(code))
    if response["statusCode"] != 302:
        raise RuntimeError(f"the measured click failed: {response}")
    return {"reads": meter.reads, "writes": meter.writes, "ops": dict(meter.ops),
            "read_units": meter.read_units, "write_units": meter.write_units}


@benchmark("round_trips", order=20)
def run(ctx: Context) -> Result:
    repo = ctx.fresh_table("trips")
    meter = Meter(repo.table.client)
    app = Lambda()
    per_order: dict[str, Any] = {}
    for depth in DEPTHS:
        for source in SOURCES:
            per_order[f"depth{depth}_{source}"] = measure_order(ctx, app, meter, depth, source, "RT")
    codes = seed_program(repo, 1, prefix="RTK")
    click = measure_click(app, meter, new_link(repo, codes[-1]))
    max_reads = max(c["reads"] for c in per_order.values())
    max_writes = max(c["writes"] for c in per_order.values())
    figures = {
        "orders": {k: {"reads": v["reads"], "writes": v["writes"], "ops": v["ops"]} for k, v in per_order.items()},
        "order_max_reads": max_reads, "order_max_writes": max_writes, "order_floor": {"reads": 1, "writes": 1},
        "click": {"reads": click["reads"], "writes": click["writes"], "ops": click["ops"]},
    }
    return Result(figures, (
        Target("order_reads_max", max_reads, 2), Target("order_writes_max", max_writes, 1),
        Target("click_reads", click["reads"], 0), Target("click_writes", click["writes"], 1),
    ))
