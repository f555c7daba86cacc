"""The member side of an order and a refund on the twin: activity toward tiers, the advocate reward
of a friend's first qualifying order, coupons used once, and refunds that cancel a pending reward."""
import pytest

from chalicelib.domain import rewards as rw
from chalicelib.domain.errors import ConcurrentUpdate


@pytest.fixture(autouse=True)
def program(shop):
    shop.publish()
    shop.register("ann", payment="card-1")
    shop.register("bob", invite_from="ann")


def test_a_friends_first_qualifying_order_makes_a_pending_reward_that_is_earned_once_holding_passes(shop):
    effects = shop.buy("bob", "o1", 5000)
    assert effects.result["advocate_reward"]["state"] == rw.PENDING
    assert [r["state"] for r in shop.rewards("ann")["rewards"]] == ["pending"]
    shop.advance(days=14)
    view = shop.rewards("ann")
    assert [r["state"] for r in view["rewards"]] == ["earned"] and view["balances"]["points"] == 500
    assert shop.state("ann").entries == ()  # derived at once, written down later (daily job, redemption)


def test_only_the_first_qualifying_order_creates_an_advocate_reward(shop):
    assert shop.buy("bob", "o1", 1000).result["advocate_reward"] is None  # below the minimum
    assert shop.buy("bob", "o2", 5000).result["advocate_reward"]["state"] == rw.PENDING
    assert shop.buy("bob", "o3", 5000).result["advocate_reward"] is None
    assert shop.state("bob").member.first_order_id == "o2"
    assert len(shop.state("ann").rewards) == 1


def test_a_friend_paying_with_the_inviters_card_is_refused_at_the_first_order(shop):
    effects = shop.buy("bob", "o1", 5000, payment="card-1")
    assert effects.result["advocate_reward"]["reason"]["code"] == rw.SELF_INVITE_PAYMENT.code
    assert shop.state("ann").rewards == ()
    assert [r.code for r in shop.uow.members.refusals()] == ["self_invite_payment"]


def test_a_coupon_is_applied_once_and_only_for_its_owner(shop):
    code = shop.rewards("bob")["coupons"][0]["code"]
    assert shop.buy("ann", "a1", 5000, coupon=code).coupon["reason"] == "coupon_not_yours"
    assert shop.buy("bob", "o1", 5000, coupon=code).coupon["status"] == "applied"
    assert shop.buy("bob", "o2", 5000, coupon=code).coupon["reason"] == "coupon_used"
    assert shop.rewards("bob")["coupons"][0]["used_by_order"] == "o1"


def test_an_unknown_or_expired_coupon_is_not_applied_and_the_order_still_counts(shop):
    assert shop.buy("bob", "o1", 5000, coupon="NOSUCH").coupon["reason"] == "unknown_coupon"
    code = shop.rewards("bob")["coupons"][0]["code"]
    shop.advance(days=91)  # coupons are valid 90 days
    effects = shop.buy("bob", "o2", 5000, coupon=code)
    assert effects.coupon["reason"] == "coupon_expired" and effects.result["spend_counted"]


def test_an_order_by_a_shopper_who_is_no_member_writes_nothing_for_members(shop):
    effects = shop.buy("zed", "z1", 5000)
    assert effects.result is None and effects.writes == []


def test_refunding_a_friends_first_order_below_the_minimum_cancels_the_pending_reward_once(shop):
    shop.buy("bob", "o1", 5000)
    shop.refund("o1", "r1", 1000)  # 4000 left: still qualifies
    assert [r["state"] for r in shop.rewards("ann")["rewards"]] == ["pending"]
    shop.refund("o1", "r2", 3000)  # 1000 left: below the 2000 minimum
    shop.refund("o1", "r3", 500)
    [reward] = shop.state("ann").rewards
    assert reward.refund_id == "r2"  # the first refund that took it below stays the one recorded
    assert [r["state"] for r in shop.rewards("ann")["rewards"]] == ["cancelled"]
    assert shop.state("bob").member.days["20260302"].spend_minor == 500


def test_of_two_orders_racing_for_one_coupon_only_one_uses_it(shop):
    code = shop.rewards("bob")["coupons"][0]["code"]
    shop.buy("bob", "o0", 5000)  # the first order is behind: the racing orders' writes share only the coupon
    shop.meanwhile(lambda rival: rival.buy("bob", "o1", 5000, coupon=code))
    with pytest.raises(ConcurrentUpdate):  # the order path reads again: the coupon is used
        shop.buy("bob", "o2", 5000, coupon=code)
    assert shop.rewards("bob")["coupons"][0]["used_by_order"] == "o1"
