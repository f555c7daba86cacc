"""Each fraud rule and cap refuses with its reason: a stable code for the admin, plain words for
the member. A friend's refund within holding cancels; after it, a clawback can go negative."""
import json

import pytest

from tests.support.helpers import auth
from tests.support.members import Clock, Members, error_code
from tests.support.program import table_snapshot


@pytest.fixture
def m(api, monkeypatch):
    members = Members(api, Clock(monkeypatch))
    members.publish_plan()
    members.publish_rewards()
    return members


def _admin_refusals(m) -> list[dict]:
    r = m.c.get("/admin/members/refusals", headers=auth("admin"))
    assert r.status_code == 200, r.body
    return json.loads(r.body)["refusals"]


@pytest.mark.parametrize("field,value,code", [
    ("email", "ann@example.com", "self_invite_email"),
    ("phone", "+1 555 0100", "self_invite_phone"),
    ("payment_fingerprint", "card-fp-ann", "self_invite_payment"),
])
def test_a_self_invite_by_the_same_email_phone_or_card_is_refused_with_its_reason(m, field, value, code):
    m.register("ann", phone="+1 555 0100", payment_fingerprint="card-fp-ann")
    extra = {field: value} if field != "email" else {"email": value}
    sock = m.register("sock", invite_from="ann", **extra)
    refused = sock["signup"]["friend_reward"]
    assert refused["status"] == "refused" and refused["code"] == code
    assert sock["invited_by"] is None  # the sock puppet's orders will never reward Ann
    assert [(x["code"], x["friend_id"]) for x in _admin_refusals(m)] == [(code, sock["member_id"])]
    ann_view = m.rewards("ann")
    assert ann_view["refusals"][0]["code"] == code and "inviter" in ann_view["refusals"][0]["message"]
    m.buy("sock", "s-1", 9000)
    m.clock.advance(days=30)
    assert m.rewards("ann")["rewards"] == [] and m.rewards("ann")["balances"]["points"] == 0


def test_a_friend_paying_with_the_inviters_card_at_the_first_order_earns_the_inviter_nothing(m):
    m.register("ann", payment_fingerprint="card-fp-ann")
    m.register("sock", invite_from="ann")  # no card at sign-up: the invite passes
    r = json.loads(m.buy("sock", "s-1", 5000, payment_fingerprint="card-fp-ann").body)
    assert r["member"]["advocate_reward"]["state"] == "refused"
    assert r["member"]["advocate_reward"]["reason"]["code"] == "self_invite_payment"
    assert m.refund_of("s-1", "r-1", 5000).status_code == 201
    later = json.loads(m.buy("sock", "s-2", 5000, payment_fingerprint="card-fp-sock").body)
    assert later["member"]["advocate_reward"] is None  # the first qualifying order decided it
    m.clock.advance(days=30)
    assert m.rewards("ann")["rewards"] == [] and m.rewards("ann")["balances"]["points"] == 0
    assert [x["code"] for x in _admin_refusals(m)] == ["self_invite_payment"]


def test_hashes_are_stored_never_the_raw_email_phone_or_card(m):
    m.register("ann", phone="+1 555 0100", payment_fingerprint="card-fp-ann")
    text = json.dumps(table_snapshot())
    assert "ann@example.com" not in text and "555 0100" not in text and "card-fp-ann" not in text
    assert "cust-ann" not in text


def test_an_existing_members_email_under_a_new_customer_id_gets_no_friend_reward(m):
    m.register("ann")
    m.register("old")
    again = m.register("old2", invite_from="ann", email="old@example.com")
    assert again["signup"]["friend_reward"]["code"] == "not_new_customer"
    assert "new customers" in again["signup"]["friend_reward"]["message"]


def test_one_friend_reward_per_customer_a_second_signup_is_a_replay_or_a_conflict(m):
    m.register("ann")
    m.register("cat")
    first = m.register_raw("bob", m.codes["ann"])
    assert first.status_code == 201
    assert m.register_raw("bob", m.codes["ann"]).status_code == 200  # retry: same member, nothing new
    other = m.register_raw("bob", m.codes["cat"])
    assert other.status_code == 409 and error_code(other) == "idempotency_conflict"


def test_an_unknown_invite_code_is_refused_and_writes_nothing(m):
    before = table_snapshot()
    r = m.register_raw("bob", "NOPE1234")
    assert r.status_code == 422 and error_code(r) == "unknown_invite_code"
    assert table_snapshot() == before


def test_the_monthly_cap_refuses_the_third_rewarded_invite_of_a_month_and_says_so(m):
    m.register("ann")
    for i, friend in enumerate(["f1", "f2", "f3"]):
        m.register(friend, invite_from="ann")
        m.buy(friend, f"{friend}-1", 5000)
        m.clock.advance(hours=1)
    m.clock.advance(days=15)
    view = m.rewards("ann")
    assert [r["state"] for r in view["rewards"]] == ["earned", "earned", "refused"]
    third = view["rewards"][2]
    assert third["reason"]["code"] == "cap_month" and "this month's limit of 2" in third["reason"]["message"]
    assert view["balances"]["points"] == 1000


def test_the_yearly_cap_refuses_past_the_years_total(m):
    m.register("ann")
    for month, friends in enumerate([["a1", "a2"], ["b1", "b2"]]):
        for friend in friends:
            m.register(friend, invite_from="ann")
            m.buy(friend, f"{friend}-1", 5000)
        m.clock.advance(days=31)
    states = [(r["state"], (r["reason"] or {}).get("code")) for r in m.rewards("ann")["rewards"]]
    assert states == [("earned", None), ("earned", None), ("earned", None), ("refused", "cap_year")]


def test_cap_refusals_reach_the_admin_once_the_daily_job_writes_them_down(m, api):
    m.register("ann")
    for friend in ["f1", "f2", "f3"]:
        m.register(friend, invite_from="ann")
        m.buy(friend, f"{friend}-1", 5000)
    m.clock.advance(days=15)
    api.lambda_.invoke("members_daily", api.events.generate_cw_event("Scheduled Event", "aws.events", {}, []))
    assert [x["code"] for x in _admin_refusals(m)] == ["cap_month"]
    api.lambda_.invoke("members_daily", api.events.generate_cw_event("Scheduled Event", "aws.events", {}, []))
    assert len(_admin_refusals(m)) == 1


def test_a_friends_order_below_the_minimum_does_not_qualify_but_a_later_one_does(m):
    m.register("ann")
    m.register("bob", invite_from="ann")
    assert json.loads(m.buy("bob", "small", 1999).body)["member"]["advocate_reward"] is None
    assert json.loads(m.buy("bob", "big", 2000).body)["member"]["advocate_reward"]["state"] == "pending"
    assert json.loads(m.buy("bob", "later", 9000).body)["member"]["advocate_reward"] is None


def test_a_refund_within_holding_cancels_the_pending_advocate_reward(m, api):
    m.register("ann")
    m.register("bob", invite_from="ann")
    m.buy("bob", "bob-1", 5000)
    m.clock.advance(days=3)
    assert m.refund_of("bob-1", "r-1", 3500).status_code == 201  # 1500 left: below the 2000 minimum
    m.clock.advance(days=30)
    view = m.rewards("ann")
    assert view["rewards"][0]["state"] == "cancelled" and view["rewards"][0]["reason"]["code"] == "order_refunded"
    assert "refunded" in view["rewards"][0]["reason"]["message"]
    assert view["balances"]["points"] == 0
    api.lambda_.invoke("members_daily", api.events.generate_cw_event("Scheduled Event", "aws.events", {}, []))
    assert [x["code"] for x in _admin_refusals(m)] == ["order_refunded"]
    assert m.rewards("ann")["rewards"][0]["state"] == "cancelled"


def test_a_small_refund_that_keeps_the_order_above_the_minimum_cancels_nothing(m):
    m.register("ann")
    m.register("bob", invite_from="ann")
    m.buy("bob", "bob-1", 5000)
    m.refund_of("bob-1", "r-1", 3000)
    m.clock.advance(days=15)
    assert m.rewards("ann")["rewards"][0]["state"] == "earned"


def test_a_refund_after_an_earned_reward_was_redeemed_is_clawed_back_as_a_negative_balance(m):
    m.register("ann")
    m.register("bob", invite_from="ann")
    m.buy("bob", "bob-1", 5000)
    m.clock.advance(days=15)
    assert m.redeem("ann", "red-1", 500).status_code == 201
    m.clock.advance(days=1)
    m.refund_of("bob-1", "r-1", 5000)
    view = m.rewards("ann")
    assert view["balances"]["points"] == -500 and view["available"]["points"] == 0
    assert [e["kind"] for e in view["ledger"]] == ["earn", "redeem", "clawback"]
    assert error_code(m.redeem("ann", "red-2", 1)) == "insufficient_balance"


def test_a_member_sees_only_its_own_rewards(m):
    m.register("ann")
    m.register("bob")
    r = m.c.get(f"/members/{m.ids['ann']}/rewards", headers=m.me("bob"))
    assert r.status_code == 403
    assert m.c.get(f"/members/{m.ids['ann']}/rewards", headers=auth("partner", "P-X")).status_code == 403
    assert m.c.get(f"/members/{m.ids['ann']}/rewards", headers=auth("admin")).status_code == 200


def test_a_malformed_member_id_is_a_404_never_a_500(m):
    r = m.c.get("/members/" + "M-" + "z" * 300 + "/rewards", headers=auth("admin"))
    assert r.status_code == 404 and error_code(r) == "unknown_member"


def test_registration_must_be_signed_by_the_shop(m):
    r = m.c.post("/webhooks/members", headers={"Content-Type": "application/json"},
                 body=b'{"customer_id": "x", "email": "x@example.com"}')
    assert r.status_code == 401


@pytest.mark.parametrize("body", [
    {"customer_id": "x"},
    {"customer_id": "x", "email": "x@example.com", "time_zone": "Mars/Olympus"},
    {"customer_id": "x", "email": "x@example.com", "quiet_start": "25:00"},
    {"customer_id": "x", "email": "x@example.com", "invite_code": "no spaces!"},
    {"customer_id": "x", "email": "x@example.com", "surprise": 1},
])
def test_bad_registrations_are_4xx_and_write_nothing(m, body):
    before = table_snapshot()
    r = m.signed("/webhooks/members", json.dumps(body).encode())
    assert 400 <= r.status_code < 500 and "error" in json.loads(r.body)
    assert table_snapshot() == before


@pytest.mark.parametrize("body", [
    {"redemption_id": "r1", "unit": "points", "amount": 0},
    {"redemption_id": "r1", "unit": "gold", "amount": 5},
    {"redemption_id": "r1", "unit": "points", "amount": "5"},
    {"redemption_id": "../x", "unit": "points", "amount": 5},
])
def test_bad_redemptions_are_400_and_write_nothing(m, body):
    m.register("ann")
    before = table_snapshot()
    r = m.c.post(f"/members/{m.ids['ann']}/redemptions", headers=m.me("ann"), body=json.dumps(body).encode())
    assert r.status_code == 400, r.body
    assert table_snapshot() == before
