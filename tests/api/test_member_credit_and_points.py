"""Other reward kinds: a points welcome for the friend, store credit for the advocate redeemed
against one order, and a later program version that does not change an earlier promise."""
import json

import pytest

from tests.support.members import Clock, Members, error_code


@pytest.fixture
def m(api, monkeypatch):
    members = Members(api, Clock(monkeypatch))
    members.publish_plan()
    members.publish_rewards(friend_reward={"kind": "points", "amount": 250},
                            advocate_reward={"kind": "credit", "amount": 1500})
    return members


def test_a_points_welcome_is_in_the_friends_ledger_at_once(m):
    m.register("ann")
    bob = m.register("bob", invite_from="ann")
    assert bob["signup"]["friend_reward"]["kind"] == "points"
    view = m.rewards("bob")
    assert view["balances"] == {"points": 250, "credit": 0}
    assert [(e["kind"], e["amount"]) for e in view["ledger"]] == [("earn", 250)]


def test_store_credit_is_redeemed_against_one_order_and_only_that_order(m):
    m.register("ann")
    m.register("bob", invite_from="ann")
    m.buy("bob", "b1", 4000)
    m.clock.advance(days=15)
    assert m.rewards("ann")["balances"] == {"points": 0, "credit": 1500}
    r = m.redeem("ann", "c-1", 1200, unit="credit", for_order="ann-order-9")
    assert r.status_code == 201, r.body
    coupon = json.loads(r.body)["coupon"]
    assert coupon["value_minor"] == 1200 and coupon["for_order"] == "ann-order-9"
    wrong = json.loads(m.buy("ann", "ann-order-8", 3000, coupon_code=coupon["code"]).body)
    assert wrong["coupon"]["reason"] == "coupon_for_another_order"
    right = json.loads(m.buy("ann", "ann-order-9", 3000, coupon_code=coupon["code"]).body)
    assert right["coupon"]["status"] == "applied"
    assert error_code(m.redeem("ann", "c-2", 301, unit="credit")) == "insufficient_balance"


def test_a_new_program_version_does_not_change_a_reward_already_promised(m):
    m.register("ann")
    m.register("bob", invite_from="ann")
    m.buy("bob", "b1", 4000)  # promised under version 1: 1500 credit after 14 days
    m.publish_rewards(advocate_reward={"kind": "points", "amount": 1}, holding_days=60,
                      effective_from=m.clock.at.isoformat())
    m.clock.advance(days=15)
    assert m.rewards("ann")["balances"] == {"points": 0, "credit": 1500}


def test_a_friends_coupon_cannot_be_used_by_someone_else(m):
    m.publish_rewards(friend_reward={"kind": "coupon", "amount": 700}, effective_from=m.clock.at.isoformat())
    m.register("ann")
    bob = m.register("bob", invite_from="ann")
    code = bob["signup"]["friend_reward"]["coupon_code"]
    m.register("eve")
    used = json.loads(m.buy("eve", "e1", 5000, coupon_code=code).body)
    assert used["coupon"]["reason"] == "coupon_not_yours"
    assert json.loads(m.buy("bob", "b1", 1000, coupon_code=code).body)["coupon"]["reason"] == "coupon_not_applicable"
