"""Many threads at once on DynamoDB Local: the same and different orders, racing refunds, and
settlement runs of the period those orders land in, some workers behind a faulty database edge.
At the end every invariant of the simulation holds and each request took effect once.

The threads call the services (the Chalice test client cannot serve threads at once, and moto is
not thread-safe, so this runs on DynamoDB Local only)."""
from __future__ import annotations

import hashlib
import os
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.domain.attribution import AttributionRules
from chalicelib.domain.errors import DomainError
from chalicelib.domain.orders import OrderCommand, RefundCommand
from chalicelib.services import orders as orders_svc
from chalicelib.services import settlement as settle_svc
from chalicelib.store.dynamo import Retry, Table
from chalicelib.store.repository import Repository
from chalicelib.store.settlement import SettlementStore
from tests.simulation.faults import FaultyClient
from tests.simulation.invariants import check
from tests.simulation.sim import MemoryFiles
from tests.support.program import table_snapshot
from tests.support.settlement import Clock, Settling

pytestmark = pytest.mark.integration
UTC = timezone.utc
PERIOD = "2026-08"
ORDERED = datetime(2026, 8, 20, tzinfo=UTC)
BEFORE_LOCK = datetime(2026, 9, 5, 23, 59, tzinfo=UTC)  # the orders' Lambdas still see August open
AFTER_LOCK = datetime(2026, 9, 6, 1, tzinfo=UTC)  # the scheduler's does not
PLAN = {"levels_bps": [1000, 500, 200], "cap_bps": 2000, "holding_days": 0, "min_payout_minor": 1_000,
        "effective_from": "2026-08-01T00:00:00Z"}


def worker_table(client, worker: int) -> Table:
    """Odd workers sit behind a faulty edge (5% of calls fail in one of the four ways)."""
    name = os.environ["UPLINE_TABLE"]
    if worker % 2:
        client = FaultyClient(client, random.Random(worker), rate=0.05)
    return Table(client, name, Retry(base_seconds=0.005, rng=random.Random(worker)))


def order_cmd(order_id: str, amount: int, code: str) -> OrderCommand:
    return OrderCommand(order_id, f"cust-{order_id}", amount, "USD", ORDERED,
                        hashlib.sha256(f"{order_id}{amount}{code}".encode()).hexdigest(), referral_code=code)


def refund_cmd(order_id: str, refund_id: str, amount: int) -> RefundCommand:
    return RefundCommand(order_id, refund_id, amount, "USD", ORDERED + timedelta(days=1),
                         hashlib.sha256(f"{order_id}{refund_id}{amount}".encode()).hexdigest())


def test_a_storm_of_orders_refunds_and_settlement_runs_leaves_every_invariant_intact(api_local, local_client):
    clock = Clock(ORDERED)
    p = Settling(api_local, clock)
    p.publish_plan(PLAN)
    p.chain(["AAA", "BBB", "CCC", "DDD"])
    p.enrol("EEE", "BBB")
    for i in range(6):  # orders already there, to be refunded during the storm
        assert p.order(f"pre{i}", 100_000 + i, at=ORDERED, referral_code="DDD", customer=f"pc{i}").status_code == 201

    rules = AttributionRules(bootstrap.settings().attribution_window, bootstrap.settings().lifetime_binding)
    cal = bootstrap.settings().calendar
    jobs = []
    for i in range(24):  # each order id sent by three workers at once
        for _ in range(3):
            jobs.append(("order", f"o{i}", 50_000 + 1_000 * i, "DDD" if i % 2 else "EEE"))
    for i in range(6):  # the same refund twice, and two different refunds of one order racing
        jobs += [("refund", f"pre{i}", "r-a", 60_000), ("refund", f"pre{i}", "r-a", 60_000),
                 ("refund", f"pre{i}", "r-b", 50_000)]
    jobs += [("settle",)] * 6
    random.Random(8).shuffle(jobs)
    files = MemoryFiles()  # one export bucket for every worker

    def run(numbered):
        worker, job = numbered
        table = worker_table(local_client, worker)
        repo = Repository(table)
        try:
            if job[0] == "order":
                return orders_svc.attribute_order(repo, order_cmd(job[1], job[2], job[3]), rules, BEFORE_LOCK,
                                                  cal, max_depth=10).result["order_id"]
            if job[0] == "refund":
                return orders_svc.refund_order(repo, refund_cmd(job[1], job[2], job[3]), BEFORE_LOCK, cal).result
            d = settle_svc.Deps(repo=repo, store=SettlementStore(table), files=files, cal=cal)
            return settle_svc.close_period(d, PERIOD, AFTER_LOCK, "system:schedule")["status"]
        except DomainError as e:
            return e.code
        except Exception as e:  # the faulty edge outlasted the retries: the sender would try again
            return f"failed: {type(e).__name__}"

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(run, enumerate(jobs)))

    print("\nstorm results:", Counter(r if isinstance(r, str) else type(r).__name__ for r in results))
    assert "out_of_order" not in results  # a racing run reports the line another run just wrote
    # Whatever failed is delivered again, as the shop and the scheduler would, without faults.
    for (worker, job), result in zip(enumerate(jobs), results):
        if isinstance(result, str) and (result.startswith("failed") or result == "busy"):
            run((0, job))
    repo = Repository(Table(local_client, os.environ["UPLINE_TABLE"]))
    d = settle_svc.Deps(repo=repo, store=SettlementStore(repo.table), files=files, cal=cal)
    batch = settle_svc.close_period(d, PERIOD, AFTER_LOCK, "system:schedule")
    assert batch["status"] == "draft" and batch["reconciliation"]["ok"], batch

    items = table_snapshot()
    check(items, {})  # entries, balances, caps, full refunds, one line per partner and currency
    orders = {i["order_id"]: i for i in items if i["SK"] == "ORDER"}
    assert sorted(orders) == sorted({f"o{i}" for i in range(24)} | {f"pre{i}" for i in range(6)})
    entries = [i for i in items if i["SK"].startswith("ENTRY#")]
    assert len({i["entry_id"] for i in entries}) == len(entries)
    for i in range(24):  # each order's commissions exactly once, in August or (after closing) September
        mine = [e for e in entries if e["order_id"] == f"o{i}"]
        assert sorted(e["level"] for e in mine) == [1, 2, 3] and len({e["period"] for e in mine}) == 1
    for i in range(6):
        refunds = [x for x in items if x["PK"] == f"ORDER#pre{i}" and x["SK"].startswith("REFUND#")]
        assert sum(r["amount_minor"] for r in refunds) == orders[f"pre{i}"]["refunded_minor"] <= 100_000 + i
    # Orders that made it into August are in its batch; the rest wait in September, none in between.
    august = {e["entry_id"] for e in entries if e["settles_in"] == PERIOD}
    settled = sum(ln["entry_count"] for ln in (x for x in items if x["PK"] == f"BATCH#{PERIOD}"
                                                and x["SK"].startswith("LINE#")))
    assert settled == len(august)
    assert settle_svc.verify_exports(d, PERIOD) == {"summary": True, "detail": True, "json": True}
