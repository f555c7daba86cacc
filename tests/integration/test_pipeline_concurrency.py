"""Many threads at once on DynamoDB Local: the same and different orders, racing refunds, and
settlement runs, some workers behind a faulty database edge. At the end every invariant of the
simulation holds and each request took effect once.

Orders never check the period (docs/architecture.md, "The path of an order"): one decided at `t`
lands in `landing_period(ordered_at, t)`, and settlement of a period starts only a fence after its
lock, later than any writer that decided before the lock can commit. The storm keeps to that: a
first wave of orders and refunds decided before August's lock, then settlement runs of August racing
a second wave decided after the lock (late orders and refunds of August sales, landing in
September), on the same partners' ledgers.

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
from chalicelib.services.settlement.close import close_period
from chalicelib.services.settlement.deps import Deps
from chalicelib.services.settlement.exports import verify_exports
from chalicelib.store.dynamo import Retry, Table
from chalicelib.store.files import FolderFiles
from chalicelib.store.repositories import Repositories
from chalicelib.store.uow import UnitOfWork
from tests.simulation.faults import FaultyClient
from tests.simulation.invariants import check
from tests.support.program import table_snapshot
from tests.support.settlement import Clock, Settling

pytestmark = pytest.mark.integration
UTC = timezone.utc
PERIOD = "2026-08"
ORDERED = datetime(2026, 8, 20, tzinfo=UTC)
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


def uow_of(table: Table) -> UnitOfWork:
    return UnitOfWork(Repositories(table))


def test_a_storm_of_orders_refunds_and_settlement_runs_leaves_every_invariant_intact(api_local, local_client,
                                                                                     monkeypatch, tmp_path):
    clock = Clock(ORDERED)
    monkeypatch.setattr(bootstrap, "now", clock)
    p = Settling(api_local, clock)
    p.publish_plan(PLAN)
    p.chain(["AAA", "BBB", "CCC", "DDD"])
    p.enrol("EEE", "BBB")
    for i in range(6):  # orders already there, to be refunded during the storm
        assert p.order(f"pre{i}", 100_000 + i, at=ORDERED, referral_code="DDD", customer=f"pc{i}").status_code == 201
    s = bootstrap.settings()
    lock = s.calendar.lock_at(PERIOD)  # in the program's time zone
    before_lock = lock - timedelta(minutes=1)  # the first wave's requests start: August is open
    late = lock + timedelta(minutes=1)  # the second wave's: August is locked, they land in September
    after_lock = s.calendar.settles_from(PERIOD) + timedelta(minutes=45)  # the scheduler's
    assert not s.calendar.closeable(PERIOD, before_lock + timedelta(seconds=s.max_request_seconds))

    rules = AttributionRules(s.attribution_window, s.lifetime_binding)
    cal, tree = s.calendar, s.tree_rules
    waves: list[list[tuple]] = [[], []]
    for i in range(24):  # each order id sent by three workers at once; odd ids before the lock, even ones late
        for _ in range(3):
            waves[i % 2 == 0].append(("order", f"o{i}", 50_000 + 1_000 * i, "DDD" if i % 2 else "EEE"))
    for i in range(6):  # the same refund twice, and two different refunds of one order racing
        waves[i >= 3] += [("refund", f"pre{i}", "r-a", 60_000), ("refund", f"pre{i}", "r-a", 60_000),
                          ("refund", f"pre{i}", "r-b", 50_000)]
    waves[1] += [("settle",)] * 6
    files = FolderFiles(tmp_path / "exports")  # one export folder for every worker

    def run(numbered):
        worker, job = numbered
        table = worker_table(local_client, worker)
        uow = uow_of(table)
        t = before_lock if job in waves[0] else late
        try:
            if job[0] == "order":
                return orders_svc.attribute_order(uow, order_cmd(job[1], job[2], job[3]), rules, t, cal,
                                                  tree=tree).result["order_id"]
            if job[0] == "refund":
                return orders_svc.refund_order(uow, refund_cmd(job[1], job[2], job[3]), t, cal).result
            d = Deps(uow=uow, files=files, cal=cal, tree=tree, shard_threads=2)
            return close_period(d, PERIOD, after_lock, "system:schedule")["status"]
        except DomainError as e:
            return e.code
        except Exception as e:  # the faulty edge outlasted the retries: the sender would try again
            return f"failed: {type(e).__name__}"

    jobs = []
    for wave in waves:
        wave = list(wave)
        random.Random(8).shuffle(wave)
        with ThreadPoolExecutor(12) as pool:
            results = list(pool.map(run, enumerate(wave, start=len(jobs))))
        print("\nstorm results:", Counter(r if isinstance(r, str) else type(r).__name__ for r in results))
        assert "out_of_order" not in results  # a racing run reports the line another run just wrote
        # Whatever failed is delivered again, as the shop and the scheduler would, without faults (an
        # order or refund as a new request: the first wave's before the lock, the second's after it).
        for (worker, job), result in zip(enumerate(wave), results):
            if isinstance(result, str) and (result.startswith("failed") or result == "busy"):
                run((0, job))
        jobs += wave
    d = Deps(uow=uow_of(Table(local_client, os.environ["UPLINE_TABLE"])), files=files, cal=cal, tree=tree)
    batch = close_period(d, PERIOD, after_lock, "system:schedule")
    assert batch["status"] == "draft" and batch["reconciliation"]["ok"], batch

    items = table_snapshot()
    check(items, {})  # entries, balances, caps, full refunds, one line per partner and currency
    orders = {i["order_id"]: i for i in items if i["SK"] == "ORDER"}
    assert sorted(orders) == sorted({f"o{i}" for i in range(24)} | {f"pre{i}" for i in range(6)})
    entries = [i for i in items if i["PK"].startswith("LEDGER#") and "entry_id" in i]
    assert len({i["entry_id"] for i in entries}) == len(entries)
    for i in range(24):  # each order's commissions exactly once: August before the lock, September after
        mine = [e for e in entries if e["order_id"] == f"o{i}"]
        assert sorted(e["level"] for e in mine) == [1, 2, 3]
        assert {e["period"] for e in mine} == {PERIOD if i % 2 else "2026-09"}
    for i in range(6):
        refunds = [x for x in items if x["PK"] == f"ORDER#pre{i}" and x["SK"].startswith("REFUND#")]
        assert sum(r["amount_minor"] for r in refunds) == orders[f"pre{i}"]["refunded_minor"] <= 100_000 + i
        reversals = [e for e in entries if e["order_id"] == f"pre{i}" and e["kind"] == "reversal"]
        assert {e["period"] for e in reversals} <= {PERIOD if i < 3 else "2026-09"}
    # Everything that landed in August is in its batch, the racing runs notwithstanding; the rest waits.
    august = {e["entry_id"] for e in entries if e["settles_in"] == PERIOD}
    settled = sum(ln["entry_count"] for ln in (x for x in items if x["PK"] == f"BATCH#{PERIOD}"
                                                and x["SK"].startswith("LINE#")))
    assert settled == len(august)
    assert verify_exports(d, PERIOD) == {"summary": True, "detail": True, "json": True}
