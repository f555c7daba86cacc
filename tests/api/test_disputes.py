"""Stripe disputes (chargebacks) through POST /integrations/stripe, from Stripe's own fixtures signed by
the `stripe` package: an opened dispute holds the order's commissions (each one taken back and held in
a copy no settlement pays), a won one releases them, a lost one refunds the order in full and leaves
them held for good; each step once, however often Stripe delivers it."""
from __future__ import annotations

import copy
from datetime import datetime

import pytest

from chalicelib import bootstrap
from tests.support.program import table_snapshot
from tests.support.settlement import Clock
from tests.support.shops import body_of, fields

from .test_shop_integrations import ENV, UTC, Shop, configure, out, stripe_checkout

COMMISSIONS = {"P-ALICE10": 900, "P-MID": 450, "P-ROOT": 180}  # the checkout's 9000 under the worked plan


@pytest.fixture
def shop(api_any, monkeypatch):
    clock = Clock(datetime(2024, 1, 1, tzinfo=UTC))
    monkeypatch.setattr(bootstrap, "now", clock)
    configure(monkeypatch, ENV)
    return Shop(api_any, clock)


def totals(shop: Shop, code: str) -> dict[str, int]:
    return {k: v for k, v in shop.commissions(code)["totals"].get("USD", {}).items() if v}


def deliver_at(shop: Shop, event: dict):
    shop.clock.t = datetime.fromtimestamp(event["created"] + 5, UTC)
    return shop.deliver("stripe", body_of(event))


def opened_then(shop: Shop) -> tuple[dict, dict]:
    event, _ = stripe_checkout(shop)
    assert shop.deliver("stripe", body_of(event)).status_code == 201
    opened, closed = fields("stripe", "charge.dispute.created.json"), fields("stripe", "charge.dispute.closed.json")
    r = deliver_at(shop, opened)
    assert r.status_code == 201, r.body
    [result] = out(r)["results"]
    assert result["status"] == "disputed"
    assert {h["partner_id"]: h["amount_minor"] for h in result["held"]} == COMMISSIONS
    return opened, closed


def test_an_opened_dispute_holds_each_commission_and_a_redelivery_changes_nothing(shop):
    opened, _ = opened_then(shop)
    # The credit and its reversal net to nothing (shown as `reversed`); the 900 is shown held.
    assert totals(shop, "ALICE10") == {"held": 900}
    assert sorted(e["state"] for e in shop.commissions("ALICE10")["entries"]) == ["held", "reversed", "reversed"]
    before = table_snapshot()
    r = deliver_at(shop, opened)
    assert r.status_code == 200 and table_snapshot() == before


def test_a_won_dispute_releases_what_it_held_once(shop):
    _, closed = opened_then(shop)
    won = copy.deepcopy(closed)
    won["id"], won["data"]["object"]["status"] = "evt_dispute_won", "won"
    r = deliver_at(shop, won)
    assert r.status_code == 201, r.body
    [result] = out(r)["results"]
    assert result["status"] == "won"
    assert {x["partner_id"]: x["amount_minor"] for x in result["released"]} == COMMISSIONS
    assert totals(shop, "ALICE10") == {"released": 900, "pending": 900}  # the release is owed again
    before = table_snapshot()
    assert deliver_at(shop, won).status_code == 200 and table_snapshot() == before


def test_a_lost_dispute_refunds_the_order_and_its_commissions_stay_held_for_good(shop):
    _, lost = opened_then(shop)
    r = deliver_at(shop, lost)
    assert r.status_code == 201, r.body
    [result] = out(r)["results"]
    assert (result["status"], result["refunded_minor"]) == ("lost", 9000)
    for code, amount in COMMISSIONS.items():
        assert totals(shop, code[2:]) == {"held": amount}  # and nothing will ever be paid
    # Stripe's refund of the charge afterwards finds nothing left of the order to refund.
    refund = fields("stripe", "charge.refunded.full.json")
    refund["created"] = lost["created"] + 60
    r = deliver_at(shop, refund)
    assert r.status_code == 200 and out(r)["results"][0]["status"] == "ignored"


def test_a_refund_while_a_dispute_is_open_is_left_to_the_dispute(shop):
    opened, _ = opened_then(shop)
    refund = fields("stripe", "charge.refunded.partial.json")
    refund["created"] = opened["created"] + 60
    before = table_snapshot()
    r = deliver_at(shop, refund)
    assert r.status_code == 200 and out(r)["results"][0]["status"] == "ignored", r.body
    assert table_snapshot() == before
