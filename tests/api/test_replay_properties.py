"""Random trees, plans, orders and refund sequences through the API: replaying any request changes
nothing, reversals never exceed credits, and full refunds net every entry of an order to zero."""
import json
import os
from collections import defaultdict

import boto3
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from chalicelib import bootstrap
from chalicelib.store.schema import create_table
from tests.conftest import wire
from tests.support.fastmoto import fast_moto
from tests.support.program import Program, ledger_items, table_snapshot


@st.composite
def histories(draw):
    depth = draw(st.integers(1, 6))
    levels = draw(st.lists(st.integers(0, 3000), min_size=1, max_size=5))
    cap = draw(st.one_of(st.none(), st.integers(0, 4000))) if sum(levels) <= 10000 else draw(st.integers(0, 4000))
    inactive = draw(st.sets(st.integers(0, depth), max_size=2))
    orders = []
    for i in range(draw(st.integers(1, 4))):
        amount = draw(st.integers(1, 10**7))
        refunds, left = [], amount
        for _ in range(draw(st.integers(0, 3))):
            if left == 0:
                break
            r = draw(st.one_of(st.integers(1, left), st.just(left)))
            refunds.append(r)
            left -= r
        orders.append((f"o{i}", amount, draw(st.integers(0, depth)), refunds))
    return depth, levels, cap, inactive, orders


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(histories())
def test_random_histories_replay_to_nothing_and_never_over_reverse(history):
    depth, levels, cap, inactive, orders = history
    with mock_aws(), fast_moto():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, os.environ["UPLINE_TABLE"])
        wire(client)
        try:
            with Client(__import__("app").app, stage_name="test") as api:
                p = Program(api)
                p.publish_plan({"levels_bps": levels, "cap_bps": cap, "effective_from": "2020-01-01T00:00:00Z"})
                codes = [f"N{i:02d}" for i in range(depth + 1)]
                p.chain(codes)
                for i in inactive:
                    p.c.post(f"/admin/partners/P-{codes[i]}/status", headers=_admin(), body=b'{"status":"inactive"}')
                sent = []
                for order_id, amount, who, refunds in orders:
                    sent.append(("/webhooks/orders", p.order_body(order_id, amount, referral_code=codes[who])))
                    for j, r in enumerate(refunds):
                        sent.append(("/webhooks/refunds", p.refund_body(order_id, f"r{j}", r)))
                first = [p.post(path, body) for path, body in sent]
                assert all(r.status_code == 201 for r in first), [r.body for r in first]
                snapshot = table_snapshot()
                for (path, body), original in zip(reversed(sent), reversed(first)):
                    again = p.post(path, body)
                    assert again.status_code == 200
                    assert json.loads(again.body) == json.loads(original.body)
                assert table_snapshot() == snapshot
                _check_ledger(orders, cap)
        finally:
            bootstrap.reset()


def _check_ledger(orders, cap):
    credited, reversed_ = defaultdict(int), defaultdict(int)
    for item in ledger_items():
        if item["kind"] == "commission":
            credited[item["entry_id"]] += item["amount_minor"]
        else:
            reversed_[item["reverses"]] += -item["amount_minor"]
    assert all(reversed_[e] <= credited[e] for e in reversed_)
    for order_id, amount, _, refunds in orders:
        mine = [e for e in credited if e.startswith(order_id + "#")]
        if cap is not None:
            assert sum(credited[e] for e in mine) <= amount * cap // 10000
        if sum(refunds) == amount:
            assert all(credited[e] == reversed_[e] for e in mine)


def _admin():
    from tests.support.helpers import auth
    return auth("admin")
