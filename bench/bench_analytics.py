"""Item 9 (issue 16): what a KPI read and the aggregates cost, counted in DynamoDB Local's consumed
capacity. A history of members joining, ordering (many repeatedly, some through partners) and
refunding is taken in month by month by the real stream consumer (services/analytics.take_in, fed
the stream records the order path writes); the KPI reads of the latest month are metered after 1
month and after 24 months of history, and so is taking in a batch of orders."""
from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from typing import Any

from chalicelib.domain import analytics as an
from chalicelib.domain.members import member_id_for
from chalicelib.services import analytics
from chalicelib.store.dynamo import encode

from .emulation.capacity import write_charges
from .harness import Context, Meter
from .registry import Result, Target, benchmark

KPIS = ("members", "partners", "rewards")


class History:
    """Stream records of a synthetic program, a month at a time (the order, member and rewards-ledger
    items as the app writes them)."""

    def __init__(self, seed: int, joins: int, orders: int):
        self.rnd = random.Random(seed)
        self.joins, self.orders = joins, orders
        self.customers: list[str] = []
        self.seq = 0
        self.n = 0

    def _record(self, pk: str, sk: str, item: dict[str, Any], event: str = "INSERT") -> dict[str, Any]:
        self.seq += 1
        return {"event_name": event, "keys": {"PK": {"S": pk}, "SK": {"S": sk}}, "new_image": encode(item),
                "sequence_number": str(self.seq)}

    def order(self, customer: str, day: str) -> list[dict[str, Any]]:
        self.n += 1
        partner = self.rnd.choice(["", "", "P1", "P2", "P3"])
        amount = self.rnd.randint(10, 300) * 100
        item = {"order_id": f"o{self.n}", "customer_hash": customer, "amount_minor": amount, "currency": "USD",
                "ordered_at": f"{day}T10:00:00+00:00", "refunded_minor": 0, "attributed_to": partner or None,
                "lines": [{"amount_minor": amount // 10}] if partner else [],
                "result": json.dumps({"member": {"tier": "normal"}})}
        out = [self._record(f"ORDER#o{self.n}", "ORDER", item)]
        if self.rnd.random() < 0.1:
            out.append(self._record(f"ORDER#o{self.n}", "ORDER", {**item, "refunded_minor": amount // 2}, "MODIFY"))
        return out

    def month(self, month: str) -> list[dict[str, Any]]:
        out = []
        for i in range(self.joins):
            c = f"cust-{len(self.customers)}"
            self.customers.append(c)
            mid = member_id_for(c)
            at = f"{month}-{1 + i % 27:02d}T08:00:00+00:00"
            out.append(self._record(f"MEMBER#{mid}", "PROFILE", {
                "member_id": mid, "created_at": at, "tier": "normal", "tier_since": at, "advocate_id": None}))
            out.append(self._record(f"MEMBER#{mid}", f"RLEDGER#earn#{mid}", {
                "entry_id": f"earn#{mid}", "member_id": mid, "kind": "earn", "unit": "points", "amount": 250,
                "occurred_at": at, "source": mid}))
        for _ in range(self.orders):
            out += self.order(self.rnd.choice(self.customers), f"{month}-{self.rnd.randint(1, 28):02d}")
        return out


def _metered(meter: Meter, fn: Any) -> tuple[Any, float, float]:
    meter.reset()
    with meter:
        out = fn()
    return out, meter.read_units, meter.write_units


def _reads(uow: Any, meter: Meter, month: str, now: datetime) -> dict[str, float]:
    return {k: _metered(meter, lambda k=k: analytics.kpi(uow, k, month, month, "USD", now))[1] for k in KPIS}


def _transaction_units(client: Any, table: str, captured: list[dict[str, Any]]) -> dict[str, int]:
    """Write units of the transactions the consumer sent, item by item, by DynamoDB's rule (2 units per
    KB of the item inside a transaction; bench/emulation/capacity.py), since DynamoDB Local
    undercounts many-item transactions (bench_cost.py). Each item is sized as it is after the write:
    states and aggregates only grow, so that is the larger of before and after."""
    out = {"aggregates": 0, "states": 0}
    for params in captured:
        for op in params["TransactItems"]:
            (kind, body), = op.items()
            key = body["Key"] if "Key" in body else {k: body["Item"][k] for k in ("PK", "SK")}
            after = client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
            n = sum(c.units for c in write_charges(None, after, transactional=True))
            out["aggregates" if key["PK"]["S"].startswith("AGG#") else "states"] += n
    return out


def _write_units_per_order(uow: Any, meter: Meter, history: History, month: str, batch: int) -> dict[str, Any]:
    """Taking in `batch` orders by returning customers in one batch (amortised), and one order alone
    (nothing shared with other orders: the worst case)."""
    client, table = uow.table.client, uow.table.name
    records = [r for _ in range(batch) for r in history.order(history.rnd.choice(history.customers), f"{month}-15")]
    orders = sum(1 for r in records if r["event_name"] == "INSERT")
    _metered(meter, lambda: analytics.take_in(uow, records))
    batched = _transaction_units(client, table, meter.captured.get("TransactWriteItems", []))
    alone = history.order(history.rnd.choice(history.customers), f"{month}-16")[:1]
    _metered(meter, lambda: analytics.take_in(uow, alone))
    single = _transaction_units(client, table, meter.captured.get("TransactWriteItems", []))
    # The aggregate items one more order can move: a member's order through a partner, in a new week
    # and month of its life, that also moves its tier (the member item's change) - every kind at once.
    before = an.with_profile(an.Person(), "2024-01-02", "normal", "2024-01-02", "1")
    before = an.with_order(before, "a", an.OrderFacts("2024-01-02", "USD", 1000, 0, True, "P1", 100))
    after = an.with_profile(before, "2024-01-02", "gold", f"{month}-16", "2")
    after = an.with_order(after, "b", an.OrderFacts(f"{month}-16", "USD", 1000, 0, True, "P1", 100))
    touched = len({item for item, _ in an.difference(an.contributions(after), an.contributions(before))})
    return {"aggregate_wu_per_order_batched": round(batched["aggregates"] / orders, 2),
            "state_wu_per_order_batched": round(batched["states"] / orders, 2),
            "aggregate_wu_one_order_alone": single["aggregates"], "state_wu_one_order_alone": single["states"],
            "aggregate_items_per_order_at_most": touched}


@benchmark("analytics_kpis", order=90)
def analytics_kpis(ctx: Context) -> Result:
    months = an.months_between("2024-01", "2025-12")  # 24 months
    joins, orders = (10, 40) if ctx.quick else (40, 200)
    uow = ctx.fresh_table("analytics")
    meter = Meter(uow.table.client)
    history = History(16, joins, orders)
    figures: dict[str, Any] = {"members_joining_per_month": joins, "orders_per_month": orders}
    for i, m in enumerate(months):
        records = history.month(m)
        for start in range(0, len(records), 500):  # Lambda's batch size for the stream
            analytics.take_in(uow, records[start:start + 500])
        if i == 0:
            now = datetime.fromisoformat(f"{m}-28T12:00:00+00:00")
            figures["read_units_after_1_month"] = _reads(uow, meter, m, now)
    now = datetime(2025, 12, 28, 12, tzinfo=timezone.utc)
    figures["read_units_after_24_months"] = _reads(uow, meter, months[-1], now)
    figures["read_units_12_month_period_after_24_months"] = {
        k: _metered(meter, lambda k=k: analytics.kpi(uow, k, months[12], months[-1], "USD", now))[1] for k in KPIS}
    figures.update(_write_units_per_order(uow, meter, history, months[-1], 100))
    one, many = figures["read_units_after_1_month"], figures["read_units_after_24_months"]
    ratios = {k: round(many[k] / one[k], 3) for k in KPIS}
    figures["read_units_ratio_24_to_1"] = ratios
    worst = max(ratios.values(), key=lambda r: abs(r - 1))
    return Result(figures, (
        Target("analytics_read_units_24_vs_1_month_within_10pct", round(abs(worst - 1), 3), 0.10),
        Target("analytics_aggregate_write_units_one_order_alone", figures["aggregate_wu_one_order_alone"],
               2 * figures["aggregate_items_per_order_at_most"]),
    ))
