"""Item 6: the cost model - read and write units per order and per click, turned into US dollars per
million at on-demand prices. Units are what DynamoDB Local reports (ReturnConsumedCapacity), table
and GSI together; for a transaction, item by item (see transaction_units)."""
from __future__ import annotations

import json
import secrets
from typing import Any

from .harness import Context, Lambda, Meter, new_link, seed_program
from .bench_round_trips import measure_click, measure_order
from .registry import Result, benchmark

# On-demand throughput, us-east-1, Standard table class, as published by AWS from 2024-11-01 (the
# 50% cut of that date) and still listed when these figures were taken (2026-11). Check
# https://aws.amazon.com/dynamodb/pricing/on-demand/ before quoting a bill: regions differ.
PRICES = {
    "usd_per_million_wru": 0.625, "usd_per_million_rru": 0.125,
    "region": "us-east-1", "table_class": "STANDARD", "effective_from": "2024-11-01",
    "excludes": "storage, GSI storage, streams, backups, data transfer, Lambda and API Gateway",
}


def usd_per_million(read_units: float, write_units: float) -> float:
    """Dollars for one million operations that each consume these units."""
    return round(read_units * PRICES["usd_per_million_rru"] + write_units * PRICES["usd_per_million_wru"], 4)


def transaction_units(client: Any, params: dict[str, Any], order_id: str) -> float:
    """The write units of a transaction, summed item by item.

    DynamoDB bills a transaction item by item (2 WRU per KB, and the GSI writes it causes), but
    DynamoDB Local's total for a many-item transaction undercounts (22 items reported as 12 units,
    while the order item alone reports 6). So each item is replayed alone, as a one-item
    transaction with a fresh order id and customer, and its reported units are summed."""
    text = json.dumps({k: v for k, v in params.items() if k not in ("ClientRequestToken", "ReturnConsumedCapacity")})
    total = 0.0
    for i in range(len(params["TransactItems"])):
        fresh = f"x{secrets.token_hex(len(order_id))}"[:len(order_id)]
        one = json.loads(text.replace(order_id, fresh).replace("CUSTOMER#", f"CUSTOMER#{fresh}"))
        resp = client.transact_write_items(TransactItems=[one["TransactItems"][i]], ReturnConsumedCapacity="TOTAL")
        total += sum(c["CapacityUnits"] for c in resp["ConsumedCapacity"])
    return total


def order_cost(ctx: Context, app: Lambda, meter: Meter, depth: int, source: str) -> dict[str, Any]:
    sample = measure_order(ctx, app, meter, depth, source, "CM")
    write_units = transaction_units(ctx.raw_client(), sample["transaction"], sample["order_id"])
    return {"read_units": sample["read_units"], "write_units": write_units,
            "write_units_reported_for_whole_transaction": sample["write_units"],
            "transaction_items": len(sample["transaction"]["TransactItems"]),
            "usd_per_million": usd_per_million(sample["read_units"], write_units)}


@benchmark("cost_model", order=25)
def run(ctx: Context) -> Result:
    repo = ctx.fresh_table("cost")
    meter = Meter(repo.table.client)
    app = Lambda()
    figures: dict[str, Any] = {"prices": PRICES, "orders": {}}
    for depth in (1, 5, 10):
        # A first order of a new customer (writes a binding) and a repeat one (the binding holds).
        figures["orders"][f"depth{depth}_new_customer"] = order_cost(ctx, app, meter, depth, "click")
        figures["orders"][f"depth{depth}_repeat_customer"] = order_cost(ctx, app, meter, depth, "binding")
    codes = seed_program(repo, 1, prefix="CMK")
    click = measure_click(app, meter, new_link(repo, codes[-1]))
    figures["click"] = {"read_units": click["read_units"], "write_units": click["write_units"],
                        "usd_per_million": usd_per_million(click["read_units"], click["write_units"])}
    figures["settled_entry"] = "not measured: settlement is not built yet (item 5)"
    figures["usd_per_million_orders_depth10"] = figures["orders"]["depth10_new_customer"]["usd_per_million"]
    figures["usd_per_million_clicks"] = figures["click"]["usd_per_million"]
    return Result(figures)
