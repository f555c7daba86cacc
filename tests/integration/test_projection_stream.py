"""Partners' running figures are a projection of their ledgers, fed by the table's stream (no order
transaction touches a partner's item): they catch up once the stream is drained into the projector,
and a batch applied again changes nothing."""
from __future__ import annotations

import os

import pytest

from chalicelib import bootstrap
from chalicelib.services import partners as partner_svc
from chalicelib.services import projection
from tests.support.program import Program
from scripts.stream import Follower

pytestmark = pytest.mark.integration


def counters(code: str) -> dict:
    uow = bootstrap.uow()
    return partner_svc.view(uow, partner_svc.get(uow, f"P-{code}"), bootstrap.now())["counters"]


@pytest.fixture
def program(api_local):
    p = Program(api_local)
    p.publish_plan()  # 10% / 5% / 2%, capped at 20%
    p.chain(["AAA", "BBB", "CCC", "DDD"])
    return p


def test_a_partners_figures_catch_up_from_the_stream_and_a_batch_applied_twice_changes_nothing(program,
                                                                                              local_client):
    drain = Follower(local_client, os.environ["UPLINE_TABLE"])  # as make run follows the stream
    assert program.order("o1", 10_000, customer="c1", referral_code="DDD").status_code == 201
    assert program.order("o2", 20_000, customer="c2", referral_code="DDD").status_code == 201
    assert program.refund("o1", "r1", 5_000).status_code == 201
    assert counters("DDD") == {} and counters("CCC") == {}  # nothing on the order path moves them

    records = drain.poll()
    assert projection.project(bootstrap.uow(), records) > 0
    ddd = {"attributed_orders": 2, "sales_USD": 10_000 + 20_000 - 5_000, "credited_USD": 1_000 + 2_000,
           "reversed_USD": 500}
    ccc = {"credited_USD": 500 + 1_000, "reversed_USD": 250}
    assert counters("DDD") == ddd
    assert counters("CCC") == ccc

    # The same batch again (Lambda retries a failed batch as a whole): nothing moves.
    assert projection.project(bootstrap.uow(), records) == 0
    assert counters("DDD") == ddd and counters("CCC") == ccc

    # More orders: the next batch takes only what is new, and the figures catch up again.
    assert program.order("o3", 30_000, customer="c3", referral_code="CCC").status_code == 201
    newer = drain.poll()
    projection.project(bootstrap.uow(), newer)
    assert newer and not {r["sequence_number"] for r in newer} & {r["sequence_number"] for r in records}
    assert counters("DDD") == ddd
    assert counters("CCC") == {"attributed_orders": 1, "sales_USD": 30_000, "credited_USD": 1_500 + 3_000,
                               "reversed_USD": 250}

    # The whole stream read again from its start, as a new consumer would: still nothing moves.
    everything = Follower(local_client, os.environ["UPLINE_TABLE"]).poll()
    assert len(everything) >= len(records) + len(newer)
    assert projection.project(bootstrap.uow(), everything) == 0
    assert counters("DDD") == ddd and counters("AAA") == {"credited_USD": 600}
    assert counters("BBB") == {"credited_USD": 200 + 400 + 1_500, "reversed_USD": 100}
