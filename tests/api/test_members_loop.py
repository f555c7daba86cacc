"""The member loop through the API, on moto and on DynamoDB Local: register, invite, the friend
signs up and orders, holding passes, the advocate is rewarded and redeems."""
import json

import pytest

from tests.support.members import Clock, Members, error_code
from tests.support.program import table_snapshot


@pytest.fixture
def m(api_any, monkeypatch):
    members = Members(api_any, Clock(monkeypatch))
    members.publish_plan()
    members.publish_rewards()
    return members


def test_the_whole_member_loop_from_invite_to_redeemed_coupon(m):
    ann = m.register("ann")
    assert ann["invite_url"] == f"/i/{ann['invite_code']}" and ann["tier"] == "normal"
    link = m.c.get(ann["invite_url"])
    assert link.status_code == 302 and link.headers["Location"].endswith(f"upline_invite={ann['invite_code']}")

    bob = m.register("bob", invite_from="ann")
    assert bob["invited_by"] == ann["member_id"]
    welcome = bob["signup"]["friend_reward"]
    assert welcome["status"] == "granted" and welcome["kind"] == "coupon" and welcome["value_minor"] == 1000

    first = m.buy("bob", "bob-1", 5000, coupon_code=welcome["coupon_code"])
    body = json.loads(first.body)
    assert first.status_code == 201, first.body
    assert body["coupon"]["status"] == "applied"
    assert body["member"]["advocate_reward"]["state"] == "pending"
    pending = m.rewards("ann")
    assert [(r["state"], r["friend_id"]) for r in pending["rewards"]] == [("pending", bob["member_id"])]
    assert pending["balances"]["points"] == 0

    m.clock.advance(days=14)
    earned = m.rewards("ann")
    assert earned["rewards"][0]["state"] == "earned"
    assert earned["balances"]["points"] == 500 == earned["available"]["points"]

    r = m.redeem("ann", "red-1", 300)
    assert r.status_code == 201, r.body
    coupon = json.loads(r.body)["coupon"]
    assert coupon["value_minor"] == 600 and coupon["currency"] == "USD"  # 300 points at 2 cents
    after = m.rewards("ann")
    assert after["balances"]["points"] == 200
    assert after["balances"]["points"] == sum(e["amount"] for e in after["ledger"] if e["unit"] == "points")
    assert [c["code"] for c in after["coupons"]] == [coupon["code"]]

    # the shop confirms the coupon with Ann's order; a second use is refused and says why
    used = json.loads(m.buy("ann", "ann-1", 3000, coupon_code=coupon["code"]).body)
    assert used["coupon"]["status"] == "applied"
    again = json.loads(m.buy("ann", "ann-2", 3000, coupon_code=coupon["code"]).body)
    assert again["coupon"]["status"] == "not_applied" and again["coupon"]["reason"] == "coupon_used"


def test_a_member_reads_its_own_profile_and_the_admin_lists_program_versions(m):
    from tests.support.helpers import auth
    ann = m.register("ann", time_zone="America/New_York", quiet_start="22:30", quiet_end="07:15")
    r = m.c.get(f"/members/{ann['member_id']}", headers=m.me("ann"))
    assert r.status_code == 200
    me = json.loads(r.body)
    assert me["invite_code"] == ann["invite_code"] and me["time_zone"] == "America/New_York"
    assert me["quiet_hours"] == {"start": "22:30", "end": "07:15"}
    programs = json.loads(m.c.get("/admin/reward-programs", headers=auth("finance")).body)["programs"]
    assert [p["version"] for p in programs] == [1] and programs[0]["cap_per_month"] == 2
    assert m.c.post("/admin/reward-programs", headers=auth("finance"), body=b"{}").status_code == 403


def test_an_invalid_program_is_refused_with_its_reason_and_writes_nothing(m):
    from tests.support.helpers import auth, dumps
    before = table_snapshot()
    r = m.c.post("/admin/reward-programs", headers=auth("admin"),
                 body=dumps({"cap_per_month": 9, "cap_per_year": 3}))
    assert r.status_code == 400 and error_code(r) == "invalid_program"
    r = m.c.post("/admin/reward-programs", headers=auth("admin"),
                 body=dumps({"advocate_reward": {"kind": "coupon", "amount": 5}}))
    assert r.status_code == 400 and error_code(r) == "invalid_program"
    assert table_snapshot() == before


def test_a_retried_redemption_returns_the_same_coupon_and_writes_nothing(m):
    m.register("ann")
    m.register("bob", invite_from="ann")
    m.buy("bob", "bob-1", 5000)
    m.clock.advance(days=15)
    first = m.redeem("ann", "red-1", 500)
    snapshot = table_snapshot()
    again = m.redeem("ann", "red-1", 500)
    assert again.status_code == 200 and again.headers["Idempotent-Replay"] == "true"
    assert json.loads(again.body) == json.loads(first.body)
    assert table_snapshot() == snapshot
    changed = m.redeem("ann", "red-1", 400)
    assert changed.status_code == 409 and error_code(changed) == "idempotency_conflict"


def test_redeeming_more_than_is_available_is_refused_and_writes_nothing(m):
    m.register("ann")
    m.register("bob", invite_from="ann")
    m.buy("bob", "bob-1", 5000)
    m.clock.advance(days=15)
    before = table_snapshot()
    r = m.redeem("ann", "red-1", 501)
    assert r.status_code == 422 and error_code(r) == "insufficient_balance"
    assert table_snapshot() == before


def test_pending_rewards_cannot_be_redeemed(m):
    m.register("ann")
    m.register("bob", invite_from="ann")
    m.buy("bob", "bob-1", 5000)
    m.clock.advance(days=13)
    assert error_code(m.redeem("ann", "red-1", 1)) == "insufficient_balance"
