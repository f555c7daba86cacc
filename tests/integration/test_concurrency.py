"""Concurrent duplicates and racing refunds on the real database end with one set of entries.

The threads call the services the webhook handlers call (the Chalice test client keeps the
current request on the app object, so it cannot serve threads at once)."""
import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.domain.attribution import AttributionRules
from chalicelib.domain.errors import DomainError
from chalicelib.domain.orders import OrderCommand, RefundCommand
from chalicelib.services import orders
from tests.support.program import Program, ledger_items

pytestmark = pytest.mark.integration
NOW = datetime.now(timezone.utc)


@pytest.fixture
def program(api_local):
    p = Program(api_local)
    p.publish_plan()
    p.chain(["AAA", "BBB", "CCC", "DDD"])
    return p


def order_cmd(order_id: str, amount: int) -> OrderCommand:
    return OrderCommand(order_id, "cust-hash", amount, "USD", NOW, hashlib.sha256(order_id.encode()).hexdigest(),
                        referral_code="DDD")


def refund_cmd(refund_id: str, amount: int) -> RefundCommand:
    return RefundCommand("o1", refund_id, amount, "USD", NOW + timedelta(seconds=1), refund_id)


def outcome_or_error(fn):
    try:
        return fn()
    except DomainError as e:
        return e


def test_concurrent_duplicate_orders_write_one_set_of_entries(program):
    with ThreadPoolExecutor(8) as pool:  # each thread its own unit of work, as each request has
        outcomes = list(pool.map(
            lambda _: orders.attribute_order(bootstrap.uow(), order_cmd("dup-1", 12000), AttributionRules(), NOW),
            range(8)))
    assert sorted(o.created for o in outcomes) == [False] * 7 + [True]
    assert all(o.result == outcomes[0].result for o in outcomes)
    assert sorted(i["entry_id"] for i in ledger_items()) == ["dup-1#L1", "dup-1#L2", "dup-1#L3"]


def test_racing_refunds_never_reverse_more_than_the_order_earned(program):
    orders.attribute_order(bootstrap.uow(), order_cmd("o1", 10000), AttributionRules(), NOW)
    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(
            lambda i: outcome_or_error(lambda: orders.refund_order(bootstrap.uow(), refund_cmd(f"r{i}", 3000), NOW)),
            range(6)))
    accepted = [o for o in outcomes if isinstance(o, orders.Outcome)]
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(accepted) == 3 and len(refused) == 3
    assert all(e.code in ("refund_exceeds_order", "busy") for e in refused)
    assert program.net("DDD") == 1000 - 900
    assert -sum(i["amount_minor"] for i in ledger_items() if i["kind"] == "reversal") == 3 * (300 + 150 + 60)
