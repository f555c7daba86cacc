"""Concurrent duplicates and racing refunds on the real database end with one set of entries."""
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.program import Program, ledger_items

pytestmark = pytest.mark.integration


@pytest.fixture
def program(api_any):
    p = Program(api_any)
    p.publish_plan()
    p.chain(["AAA", "BBB", "CCC", "DDD"])
    return p


def test_concurrent_duplicate_orders_write_one_set_of_entries(program):
    body = program.order_body("dup-1", 12000, referral_code="DDD")
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: program.post("/webhooks/orders", body), range(8)))
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({json.dumps(json.loads(r.body), sort_keys=True) for r in responses}) == 1
    assert sorted(i["entry_id"] for i in ledger_items()) == ["dup-1#L1", "dup-1#L2", "dup-1#L3"]


def test_racing_refunds_never_reverse_more_than_the_order_earned(program):
    program.order("o1", 10000, referral_code="DDD")
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda i: program.refund("o1", f"r{i}", 3000), range(6)))
    accepted = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    assert len(accepted) == 3
    assert all(r.status_code in (409, 422) for r in refused)
    assert program.net("DDD") == 1000 - 900
    reversed_total = -sum(i["amount_minor"] for i in ledger_items() if i["kind"] == "reversal")
    assert reversed_total == 3 * (300 + 150 + 60)
