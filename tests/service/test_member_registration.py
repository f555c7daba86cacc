"""Registration on the twin: an invite code of one's own, the friend reward, and the invites that
must not be rewarded (self-invites by identity, identities other members already claimed)."""
import pytest

from chalicelib.domain import rewards as rw
from chalicelib.domain.errors import Conflict, Unprocessable
from chalicelib.domain.members import member_id_for
from chalicelib.domain.rewards import Reward
from tests.service.shop import hashed


@pytest.fixture(autouse=True)
def program(shop):
    shop.publish()


def test_a_member_gets_its_own_invite_code_and_a_replay_returns_the_same_member(shop):
    view, created = shop.register("ann")
    again, created_again = shop.register("ann")
    assert created and not created_again
    assert again == view and view["invite_url"] == f"/i/{view['invite_code']}"
    assert shop.uow.members.resolve_invite(view["invite_code"]) == view["member_id"]


def test_the_same_customer_with_other_details_is_an_idempotency_conflict(shop):
    shop.register("ann")
    with pytest.raises(Conflict) as e:
        shop.register("ann", fingerprint="another body")
    assert e.value.code == "idempotency_conflict"


def test_a_friend_invited_with_a_valid_code_gets_the_friend_coupon_and_names_its_advocate(shop):
    shop.register("ann")
    bob, _ = shop.register("bob", invite_from="ann")
    assert bob["invited_by"] == shop.ids["ann"]
    reward = bob["signup"]["friend_reward"]
    assert (reward["status"], reward["kind"], reward["value_minor"]) == ("granted", "coupon", 1000)
    [coupon] = shop.rewards("bob")["coupons"]
    assert coupon["code"] == reward["coupon_code"] and coupon["used_by_order"] is None


def test_a_friend_reward_in_points_is_an_earn_entry_with_its_balance_and_a_notification(shop):
    shop.publish(friend_reward=Reward("points", 300))
    shop.register("ann")
    shop.register("bob", invite_from="ann")
    st = shop.state("bob")
    assert [(e.kind, e.amount) for e in st.entries] == [("earn", 300)]
    assert st.member.ledger_seq == 1 and shop.rewards("bob")["balances"]["points"] == 300
    assert st.outbox == {f"earned#earn#friend#{shop.ids['bob']}"}


def test_inviting_yourself_by_email_is_refused_with_the_reason_recorded_for_the_advocate(shop):
    shop.register("ann", email="ann@example.com")
    bob, _ = shop.register("bob", invite_from="ann", email="ann@example.com")
    assert bob["signup"]["invited_by"] == shop.ids["ann"]
    assert bob["signup"]["friend_reward"]["code"] == rw.SELF_INVITE_EMAIL.code
    assert bob["invited_by"] is None  # no advocate, so no advocate reward will ever follow
    [refusal] = shop.uow.members.refusals()
    assert (refusal.advocate_id, refusal.friend_id, refusal.code) == (shop.ids["ann"], shop.ids["bob"],
                                                                       "self_invite_email")


def test_inviting_yourself_by_card_is_refused_at_sign_up(shop):
    shop.register("ann", payment="card-1")
    bob, _ = shop.register("bob", invite_from="ann", payment="card-1")
    assert bob["signup"]["friend_reward"]["code"] == rw.SELF_INVITE_PAYMENT.code


def test_an_email_another_member_already_claimed_makes_the_invite_not_a_new_customers(shop):
    shop.register("ann")
    shop.register("carol", email="shared@example.com", phone="+100")
    dave, _ = shop.register("dave", invite_from="ann", email="shared@example.com", phone="+200")
    assert dave["signup"]["friend_reward"]["code"] == rw.NOT_NEW_CUSTOMER.code
    # the phone was new and is now dave's; the email stays carol's
    erin, _ = shop.register("erin", invite_from="ann", phone="+200")
    assert erin["signup"]["friend_reward"]["code"] == rw.NOT_NEW_CUSTOMER.code
    frank, _ = shop.register("frank", invite_from="ann")
    assert frank["signup"]["friend_reward"]["status"] == "granted"


def test_an_unknown_invite_code_is_refused_and_registers_nobody(shop):
    with pytest.raises(Unprocessable) as e:
        shop.register("bob", invite_code="NOSUCHCODE")
    assert e.value.code == "unknown_invite_code"
    assert shop.uow.members.get(member_id_for(hashed("cust-bob"))) is None
    assert {i["PK"] for i in shop.uow.table.scan()} == {"PROGRAM"}  # the reward program only


def test_a_registration_that_loses_a_race_to_its_duplicate_replays_the_winner(shop):
    shop.meanwhile(lambda rival: rival.register("ann"))
    view, created = shop.register("ann")
    assert not created
    assert [view["member_id"]] == list(shop.uow.members.member_ids())
    assert shop.uow.members.resolve_invite(view["invite_code"]) == view["member_id"]


def test_an_email_claimed_by_another_member_meanwhile_is_read_again_and_the_invite_refused(shop):
    shop.register("ann")
    shop.meanwhile(lambda rival: rival.register("carol", email="shared@example.com"))
    dave, created = shop.register("dave", invite_from="ann", email="shared@example.com")
    assert created and dave["signup"]["friend_reward"]["code"] == rw.NOT_NEW_CUSTOMER.code
