"""The analytics consumer on the twin: stream records (orders, refunds, member profiles and their
tier changes, partners) taken in once, twice, in overlapping batches or by two racing consumers
leave the same aggregates, and those aggregates count what the records say."""
from __future__ import annotations

import json
import random
from datetime import datetime, timezone

import pytest

from chalicelib.domain import analytics as an
from chalicelib.domain.members import member_id_for
from chalicelib.services import analytics
from chalicelib.store.dynamo import encode
from chalicelib.store.memory import MemoryTable
from chalicelib.store.repositories import Repositories
from chalicelib.store.uow import UnitOfWork
from tests.service.shop import Interleaved

TIERS = ("normal", "bronze", "silver", "gold")
NOW = datetime(2026, 8, 30, tzinfo=timezone.utc)


def record(seq: int, pk: str, sk: str, item: dict, event: str = "INSERT") -> dict:
    return {"event_name": event, "keys": {"PK": {"S": pk}, "SK": {"S": sk}}, "new_image": encode(item),
            "sequence_number": str(seq)}


def generated(seed: int = 7) -> tuple[list[dict], dict]:
    """Stream records of a random history, in stream order, and what the test knows of it."""
    rnd = random.Random(seed)
    out: list[dict] = []
    seq = 0
    truth = {"members": {}, "orders": {}, "partners": {}}

    def emit(pk, sk, item, event="INSERT"):
        nonlocal seq
        seq += 1
        out.append(record(seq, pk, sk, item, event))

    for p in range(3):
        day = f"2026-0{1 + p}-10"
        emit(f"PARTNER#P{p}", "PROFILE", {"partner_id": f"P{p}", "created_at": f"{day}T00:00:00+00:00"})
        truth["partners"][f"P{p}"] = day
    customers = [f"c{i:02d}" for i in range(30)]
    for i, c in enumerate(customers[:15]):
        mid = member_id_for(c)
        day = f"2026-0{1 + i % 4}-{1 + i:02d}"
        advocate = member_id_for(customers[i - 1]) if i and i % 3 == 0 else None
        item = {"member_id": mid, "created_at": f"{day}T08:00:00+00:00", "tier": "normal",
                "tier_since": f"{day}T08:00:00+00:00", "advocate_id": advocate}
        emit(f"MEMBER#{mid}", "PROFILE", item)
        tier = "normal"
        for step in range(rnd.randint(0, 3)):
            new = rnd.choice(TIERS)
            at = f"2026-0{5 + step}-0{1 + step}T09:00:00+00:00"
            emit(f"MEMBER#{mid}", "PROFILE", {**item, "tier": new, "tier_since": at if new != tier else
                                               item["tier_since"]}, "MODIFY")
            item = {**item, "tier": new, "tier_since": at if new != tier else item["tier_since"]}
            tier = new
        truth["members"][c] = (day, tier)
    for n in range(80):
        c = rnd.choice(customers)
        day = f"2026-0{rnd.randint(1, 8)}-{rnd.randint(1, 28):02d}"
        partner = rnd.choice(["", "P0", "P1", "P2"])
        result = {"member": {"tier": "normal"}} if c in customers[:15] else {}
        order = {"order_id": f"o{n}", "customer_hash": c, "amount_minor": rnd.randint(1, 99) * 100,
                 "currency": "USD", "ordered_at": f"{day}T10:00:00+00:00", "refunded_minor": 0,
                 "attributed_to": partner or None, "lines": [{"amount_minor": 50}] if partner else [],
                 "result": json.dumps(result)}
        emit(f"ORDER#o{n}", "ORDER", order)
        if rnd.random() < 0.2:
            emit(f"ORDER#o{n}", "ORDER", {**order, "refunded_minor": order["amount_minor"] // 2}, "MODIFY")
            order = {**order, "refunded_minor": order["amount_minor"] // 2}
        truth["orders"][f"o{n}"] = order
    return out, truth


def fresh() -> UnitOfWork:
    return UnitOfWork(Repositories(Interleaved(MemoryTable())))


def aggregates(uow: UnitOfWork) -> dict:
    """Every aggregate's figures (a figure moved up and back down again reads as none)."""
    out = {}
    for i in uow.table.inner.scan():
        figures = {k: v for k, v in i.items() if k not in ("PK", "SK") and v}
        if i["PK"].startswith("AGG#") and figures:
            out[(i["PK"], i["SK"])] = figures
    return out


def test_the_same_batch_twice_adds_nothing_the_second_time():
    records, _ = generated()
    uow = fresh()
    assert analytics.take_in(uow, records) > 0
    once = aggregates(uow)
    assert analytics.take_in(uow, records) == 0
    assert aggregates(uow) == once and once


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_overlapping_and_repeated_batches_leave_the_aggregates_of_one_pass(seed):
    records, _ = generated()
    one = fresh()
    analytics.take_in(one, records)
    rnd = random.Random(seed)
    many = fresh()
    start = 0
    while start < len(records):
        end = min(len(records), start + rnd.randint(1, 40))
        analytics.take_in(many, records[max(0, start - rnd.randint(0, 15)):end])  # overlaps the last batch
        start = end
    analytics.take_in(many, records[rnd.randint(0, 50):])  # a late redelivery of a tail
    assert aggregates(many) == aggregates(one)


def test_a_consumer_racing_another_over_the_same_records_counts_each_once():
    records, _ = generated()
    one = fresh()
    analytics.take_in(one, records)
    uow = fresh()
    rival = UnitOfWork(Repositories(uow.table.inner))
    uow.table.before = lambda: analytics.take_in(rival, records[: len(records) // 2])
    analytics.take_in(uow, records)
    assert aggregates(uow) == aggregates(one)


def test_the_aggregates_count_what_the_records_say():
    records, truth = generated()
    uow = fresh()
    analytics.take_in(uow, records)
    months = an.months_between("2026-01", "2026-08")
    got = analytics.kpi(uow, "members", "2026-01", "2026-08", "USD", NOW)
    new = {m: sum(1 for d, _ in truth["members"].values() if d[:7] == m) for m in months}
    assert {r["month"]: r["new_members"] for r in got["monthly"]} == new
    orders = truth["orders"].values()
    assert [r["orders"] for r in got["monthly"]] == [sum(1 for o in orders if o["ordered_at"][:7] == m) for m in months]
    final = {t: sum(1 for _, tier in truth["members"].values() if tier == t) for t in TIERS}
    assert {t: got["tiers"][-1][t] for t in TIERS} == final
    partners = analytics.kpi(uow, "partners", "2026-01", "2026-08", "USD", NOW)
    revenue = sum(o["amount_minor"] - o["refunded_minor"] for o in orders if o["attributed_to"])
    assert sum(r["attributed_revenue_minor"] for r in partners["monthly"]) == revenue
    assert [r["new_partners"] for r in partners["monthly"]][:3] == [1, 1, 1]


def test_an_unreadable_record_is_skipped_and_the_rest_taken_in():
    records, _ = generated()
    broken = {**records[5], "new_image": {"order_id": {"S": "x"}}}
    broken["keys"] = {"PK": {"S": "ORDER#x"}, "SK": {"S": "ORDER"}}
    uow = fresh()
    analytics.take_in(uow, [broken, *records])
    one = fresh()
    analytics.take_in(one, records)
    assert aggregates(uow) == aggregates(one)
