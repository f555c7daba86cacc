"""Racing redemptions on the real database never spend the same points twice, and racing
duplicates of one redemption write one coupon. Threads call the service the handler calls."""
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from chalicelib import bootstrap
from chalicelib.domain.errors import DomainError
from chalicelib.services import members as svc
from tests.support.members import Clock, Members
from tests.support.program import table_snapshot

pytestmark = pytest.mark.integration


@pytest.fixture
def ann(api_local, monkeypatch):
    m = Members(api_local, Clock(monkeypatch))
    m.publish_plan()
    m.publish_rewards(cap_per_month=10, cap_per_year=10)
    m.register("ann")
    for f in ["f1", "f2"]:
        m.register(f, invite_from="ann")
        m.buy(f, f"{f}-1", 5000)
    m.clock.advance(days=15)  # 2 x 500 points earned, not yet written down
    return m


def _redeem(rid: str, amount: int, member_id: str, at):
    try:
        with bootstrap.uow() as uow:
            return svc.redeem(uow, member_id, svc.RedeemCommand(rid, "points", amount, f"fp-{rid}-{amount}"), at)[0]
    except DomainError as e:
        return e.code


def test_racing_redemptions_never_spend_more_than_was_earned(ann):
    mid, at = ann.ids["ann"], ann.clock.at + timedelta(seconds=1)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: _redeem(f"r{i}", 300, mid, at), range(8)))
    won = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if not isinstance(r, dict)]
    assert all(r in ("insufficient_balance", "busy") for r in refused)
    # 1000 points buy three 300-point coupons; a thread that gave up as busy may leave one unspent
    assert 1 <= len(won) <= 3 and (len(won) == 3 or "busy" in refused)
    items = [i for i in table_snapshot() if i["PK"] == f"MEMBER#{mid}"]
    ledger = [i for i in items if i["SK"].startswith("RLEDGER#")]
    left = 1000 - 300 * len(won)
    assert sum(i["amount"] for i in ledger) == left == next(i for i in items if i["SK"] == "PROFILE")["bal_points"]
    assert len([i for i in ledger if i["kind"] == "earn"]) == 2


def test_racing_duplicates_of_one_redemption_write_one_coupon(ann):
    mid, at = ann.ids["ann"], ann.clock.at + timedelta(seconds=1)
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: _redeem("same", 400, mid, at), range(6)))
    codes = {r["coupon"]["code"] for r in results if isinstance(r, dict)}
    assert len(codes) == 1
    assert len([i for i in table_snapshot() if i["PK"].startswith("COUPON#") and i["source"] == "redeem#same"]) == 1
