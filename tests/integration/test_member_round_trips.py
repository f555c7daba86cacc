"""Members ride the order path without a round trip of their own: a friend's first qualifying order
with a coupon and a partner referral is still at most two reads and exactly one write; its refund
one read and one write."""
import json

import pytest

from chalicelib import bootstrap
from tests.support.helpers import DynamoCalls
from tests.support.members import Clock, Members

pytestmark = pytest.mark.integration


@pytest.fixture
def m(api_any, monkeypatch):
    members = Members(api_any, Clock(monkeypatch))
    members.publish_plan()
    members.publish_rewards()
    members.chain(["RT0", "RT1"])
    members.register("ann")
    return members


def test_a_friends_first_order_with_coupon_and_referral_is_two_reads_and_one_write(m):
    bob = m.register("bob", invite_from="ann")
    calls = DynamoCalls(bootstrap.table().client)
    r = m.buy("bob", "o1", 5000, referral_code="RT1", coupon_code=bob["signup"]["friend_reward"]["coupon_code"])
    body = json.loads(r.body)
    assert r.status_code == 201 and body["status"] == "attributed"
    assert body["coupon"]["status"] == "applied" and body["member"]["advocate_reward"]["state"] == "pending"
    assert calls.reads <= 2 and calls.writes == 1 and calls.ops["TransactWriteItems"] == 1, calls.ops
    assert sum(calls.ops.values()) == calls.reads + calls.writes, calls.ops


def test_refunding_a_friends_first_order_is_one_read_and_one_write(m):
    m.register("bob", invite_from="ann")
    m.buy("bob", "o1", 5000, referral_code="RT1")
    calls = DynamoCalls(bootstrap.table().client)
    assert m.refund_of("o1", "r1", 5000).status_code == 201
    assert calls.reads == 1 and calls.writes == 1, calls.ops
    assert m.rewards("ann")["rewards"][0]["state"] == "cancelled"
