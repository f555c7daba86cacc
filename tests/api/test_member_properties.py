"""Random member histories through the API: the stored balance always equals the sum of the stored
rewards ledger, no redemption overdraws, and replaying any request changes nothing."""
import json
import os

import boto3
import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from chalicelib import bootstrap
from chalicelib.store.schema import create_table
from tests.conftest import wire
from tests.support.fastmoto import fast_moto
from tests.support.members import Clock, Members
from tests.support.program import table_snapshot

actions = st.lists(st.one_of(
    st.tuples(st.just("friend"), st.integers(1500, 9000)),  # a friend joins and orders this much
    st.tuples(st.just("refund"), st.integers(0, 10)),  # refund the n-th friend's order in full
    st.tuples(st.just("wait"), st.integers(1, 40)),  # days
    st.tuples(st.just("redeem"), st.integers(1, 1200)),
    st.tuples(st.just("daily"), st.just(0)),
), min_size=1, max_size=14)


def _stored_ledger_matches_projection(member_id: str) -> None:
    items = [i for i in table_snapshot() if i["PK"] == f"MEMBER#{member_id}"]
    profile = next(i for i in items if i["SK"] == "PROFILE")
    for unit in ("points", "credit"):
        ledger = sum(i["amount"] for i in items if i["SK"].startswith("RLEDGER#") and i["unit"] == unit)
        assert profile.get(f"bal_{unit}", 0) == ledger


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(actions)
def test_random_member_histories_keep_balance_equal_to_ledger_and_replays_change_nothing(history):
    with mock_aws(), fast_moto(), pytest.MonkeyPatch.context() as mp:
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, os.environ["UPLINE_TABLE"])
        wire(client)
        try:
            with Client(__import__("app").app, stage_name="test") as api:
                m = Members(api, Clock(mp))
                m.publish_plan()
                m.publish_rewards(cap_per_month=3, cap_per_year=6)
                m.register("ann")
                friends, redemptions = [], []
                for i, (what, n) in enumerate(history):
                    if what == "friend":
                        name = f"f{i}"
                        m.register(name, invite_from="ann")
                        assert m.buy(name, f"o{i}", n).status_code == 201
                        friends.append((f"o{i}", n))
                    elif what == "refund" and friends:
                        order_id, amount = friends[n % len(friends)]
                        assert m.refund_of(order_id, f"r{i}", amount).status_code in (201, 422)
                    elif what == "wait":
                        m.clock.advance(days=n)
                    elif what == "daily":
                        api.lambda_.invoke("members_daily", api.events.generate_cw_event("x", "aws.events", {}, []))
                        _stored_ledger_matches_projection(m.ids["ann"])
                    elif what == "redeem":
                        before = m.rewards("ann")["available"]["points"]
                        r = m.redeem("ann", f"red{i}", n)
                        if n > before:
                            assert r.status_code == 422
                        else:
                            assert r.status_code == 201, r.body
                            redemptions.append((f"red{i}", n, json.loads(r.body)))
                            assert m.rewards("ann")["available"]["points"] == before - n
                            _stored_ledger_matches_projection(m.ids["ann"])
                view = m.rewards("ann")
                assert view["balances"]["points"] == sum(e["amount"] for e in view["ledger"] if e["unit"] == "points")
                snapshot = table_snapshot()
                for path, body in list(m.sent):  # registrations, orders, refunds
                    assert m.signed(path, body).status_code in (200, 422), (path, body)
                for rid, n, result in redemptions:
                    again = m.redeem("ann", rid, n)
                    assert again.status_code == 200 and json.loads(again.body) == result
                assert table_snapshot() == snapshot
        finally:
            bootstrap.reset()
