"""Redemption on the twin: a replay returns the same coupon and spends once, the balance never goes
below zero, lots that expire first are used first, and racing writers take turns."""
import pytest

from chalicelib.domain.errors import Conflict, Unprocessable


@pytest.fixture(autouse=True)
def ann_earned_two_lots(shop):
    """ann: 500 points earned at day 14 (expiring day 74) and 500 at day 24 (expiring day 84)."""
    shop.publish()
    shop.register("ann")
    shop.register("bob", invite_from="ann")
    shop.register("cat", invite_from="ann")
    shop.buy("bob", "b1", 5000)
    shop.advance(days=10)
    shop.buy("cat", "c1", 5000)
    shop.advance(days=20)


def test_a_redemption_replayed_returns_the_same_coupon_and_spends_once(shop):
    first, created = shop.redeem("ann", "r1", 300)
    again, created_again = shop.redeem("ann", "r1", 300)
    assert created and not created_again and again == first
    assert first["coupon"]["value_minor"] == 600  # 2 minor units a point
    assert [e.kind for e in shop.state("ann").entries].count("redeem") == 1
    assert shop.rewards("ann")["balances"]["points"] == 700


def test_a_redemption_id_used_again_for_another_amount_is_a_conflict(shop):
    shop.redeem("ann", "r1", 300)
    with pytest.raises(Conflict) as e:
        shop.redeem("ann", "r1", 400)
    assert e.value.code == "idempotency_conflict"


def test_a_redemption_never_takes_the_balance_below_zero_and_a_refused_one_writes_nothing(shop):
    before = shop.state("ann")
    with pytest.raises(Unprocessable) as e:
        shop.redeem("ann", "r1", 1001)
    assert e.value.code == "insufficient_balance"
    assert shop.state("ann") == before
    result, _ = shop.redeem("ann", "r2", 1000)
    assert result["balance_after"] == 0


def test_a_redemption_takes_from_the_lots_that_expire_first(shop):
    bob_lot, cat_lot = f"earn#adv#{shop.ids['bob']}", f"earn#adv#{shop.ids['cat']}"
    result, _ = shop.redeem("ann", "r1", 600)
    assert result["allocations"] == [{"lot": bob_lot, "amount": 500}, {"lot": cat_lot, "amount": 100}]


def test_an_expired_lot_is_never_redeemed(shop):
    shop.advance(days=45)  # day 75: bob's lot expired at day 74, cat's has 9 days left
    with pytest.raises(Unprocessable):
        shop.redeem("ann", "r1", 501)
    result, _ = shop.redeem("ann", "r2", 500)
    assert [a["lot"] for a in result["allocations"]] == [f"earn#adv#{shop.ids['cat']}"]
    assert shop.rewards("ann")["balances"]["points"] == 0  # the expiry was written with the redemption


def test_two_redemptions_racing_on_one_member_never_spend_the_same_points(shop):
    shop.daily()  # the earned points written down: the two redemptions' writes share only the profile
    shop.meanwhile(lambda rival: rival.redeem("ann", "other", 700))
    with pytest.raises(Unprocessable) as e:
        shop.redeem("ann", "mine", 700)  # lost the race on ledger_seq, read again: 300 left
    assert e.value.code == "insufficient_balance"
    st = shop.state("ann")
    assert sum(e.amount for e in st.entries) == 300 == shop.rewards("ann")["balances"]["points"]


def test_duplicates_of_one_redemption_racing_write_one_coupon(shop):
    shop.meanwhile(lambda rival: rival.redeem("ann", "same", 400))
    result, created = shop.redeem("ann", "same", 400)
    assert not created  # the duplicate won; this one replays its coupon
    assert [c["code"] for c in shop.rewards("ann")["coupons"]] == [result["coupon"]["code"]]
