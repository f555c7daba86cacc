"""Partners' coupon codes: made by an admin or by the partner within a limit, unique and
case-insensitive across every code of the program, attributing the orders that carry them (the
generic webhook, Shopify's discount codes, Stripe's metadata) by the documented precedence — click,
coupon, referral code, binding — and flagged for review when they leak."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from tests.support.helpers import auth, dumps
from tests.support.program import Program, project_figures, table_snapshot
from tests.support.shops import body_of, fields

from .test_shop_integrations import ENV, UTC, Shop, configure, out


@pytest.fixture
def program(api_any):
    p = Program(api_any)
    p.publish_plan()
    p.chain(["ROOT", "MID", "ALICE"])
    p.enrol("BOB", "ROOT")
    p.enrol("CAROL", "ROOT")
    p.enrol("DAVE", "ROOT")
    return p


def make(program: Program, partner: str, code: str, role: str = "admin"):
    headers = auth("admin") if role == "admin" else auth("partner", f"P-{partner}")
    return program.c.post(f"/partners/P-{partner}/coupons", headers=headers, body=dumps({"code": code}))


def error_code(r) -> str:
    return json.loads(r.body)["error"]["code"]


def test_an_order_carrying_a_partners_coupon_code_is_attributed_to_that_partner_in_any_letter_case(program):
    assert make(program, "ALICE", "Summer10").status_code == 201
    r = program.order("o1", 10000, coupon_code="summer10")
    assert r.status_code == 201, r.body
    body = json.loads(r.body)
    assert body["attribution"] == {"partner_id": "P-ALICE", "source": "coupon", "click_id": None,
                                   "coupon_code": "SUMMER10"}
    assert {c["partner_id"]: c["amount_minor"] for c in body["commissions"]} == \
        {"P-ALICE": 1000, "P-MID": 500, "P-ROOT": 200}
    assert "coupon" not in body  # not a member's coupon: nothing to apply to a reward balance


def test_attribution_takes_the_click_then_the_coupon_then_the_referral_code_then_the_binding(program):
    make(program, "BOB", "BOBSAVES")
    click = program.follow(program.link("ALICE"))
    # all four: the click wins
    program.order("bind", 1000, customer="c-bound", referral_code="DAVE")  # binds c-bound to DAVE
    r = program.order("all", 1000, customer="c-bound", click_id=click, coupon_code="BOBSAVES", referral_code="CAROL")
    assert json.loads(r.body)["attribution"]["partner_id"] == "P-ALICE"
    # no click: the coupon wins over the referral code and the binding
    r = program.order("no-click", 1000, customer="c-bound", coupon_code="BOBSAVES", referral_code="CAROL")
    assert json.loads(r.body)["attribution"]["source"] == "coupon"
    assert json.loads(r.body)["attribution"]["partner_id"] == "P-BOB"
    # no coupon: the referral code wins over the binding
    r = program.order("no-coupon", 1000, customer="c-bound", referral_code="CAROL")
    assert json.loads(r.body)["attribution"] == {"partner_id": "P-CAROL", "source": "referral_code", "click_id": None}
    # nothing but the binding
    r = program.order("bound-only", 1000, customer="c-bound")
    assert json.loads(r.body)["attribution"]["partner_id"] == "P-DAVE"


def test_a_coupon_code_is_unique_across_every_code_of_the_program_whatever_its_case(program):
    assert make(program, "ALICE", "WELCOME").status_code == 201
    before = table_snapshot()
    for partner, code in (("BOB", "welcome"), ("BOB", "ALICE"), ("ALICE", "Welcome")):
        r = make(program, partner, code)
        if partner == "ALICE":  # the same request again: the same code, made once
            assert r.status_code == 200 and json.loads(r.body)["code"] == "WELCOME"
            continue
        assert r.status_code == 409 and error_code(r) == "code_taken", r.body  # a coupon's, a partner's code
    assert [i for i in table_snapshot() if "AUDIT" not in i["PK"]] == [i for i in before if "AUDIT" not in i["PK"]]
    link = program.link("BOB")
    assert make(program, "CAROL", link.lower()).status_code == 409  # a link's code


def test_members_coupon_prefixes_are_not_a_partners_to_take(program):
    for code in ("F-ABCDEFGHIJ", "r-summer"):
        r = make(program, "ALICE", code)
        assert r.status_code == 400 and error_code(r) == "code_reserved", r.body


def test_a_partner_makes_its_own_codes_up_to_the_limit_and_an_admin_past_it(program, monkeypatch):
    monkeypatch.setenv("UPLINE_COUPON_LIMIT", "2")
    from chalicelib import bootstrap
    bootstrap.settings.cache_clear()
    assert make(program, "ALICE", "ALICE-A", role="partner").status_code == 201
    assert make(program, "ALICE", "ALICE-A", role="partner").status_code == 200  # a retry counts nothing
    assert make(program, "ALICE", "ALICE-B", role="partner").status_code == 201
    r = make(program, "ALICE", "ALICE-C", role="partner")
    assert r.status_code == 422 and error_code(r) == "coupon_limit"
    assert program.c.get("/r/ALICE-C").status_code == 404  # the refused code was not written
    assert make(program, "ALICE", "ALICE-C").status_code == 201  # an admin is not held to the limit
    r = program.c.post("/partners/P-BOB/coupons", headers=auth("partner", "P-ALICE"), body=dumps({"code": "NOPE"}))
    assert r.status_code == 403  # nor may a partner make codes for another
    listed = program.c.get("/partners/P-ALICE/coupons", headers=auth("partner", "P-ALICE"))
    assert sorted(c["code"] for c in json.loads(listed.body)["coupons"]) == ["ALICE-A", "ALICE-B", "ALICE-C"]


def test_a_coupon_code_is_typed_at_a_checkout_and_is_no_link_to_follow(program):
    make(program, "ALICE", "NOTALINK")
    assert program.c.get("/r/NOTALINK").status_code == 404


def test_a_code_used_by_many_distinct_customers_in_one_window_is_flagged_once_for_review(program, monkeypatch):
    monkeypatch.setenv("UPLINE_COUPON_LEAK_CUSTOMERS", "4")
    from chalicelib import bootstrap
    bootstrap.settings.cache_clear()
    make(program, "ALICE", "LEAKY")
    make(program, "BOB", "FAMILY")
    for i in range(3):  # three customers, one of them twice: three distinct, under the rule
        program.order(f"leaky-{i}", 1000, customer=f"buyer-{i}", coupon_code="LEAKY")
    program.order("leaky-again", 1000, customer="buyer-0", coupon_code="LEAKY")
    for i in range(5):
        program.order(f"family-{i}", 1000, customer="same-family", coupon_code="FAMILY")
    project_figures()
    project_figures()  # the stream again from its start: a redelivery adds nobody twice
    flagged = program.c.get("/admin/coupons/flagged", headers=auth("admin"))
    assert json.loads(flagged.body)["flagged"] == []
    program.order("leaky-3", 1000, customer="buyer-3", coupon_code="LEAKY")
    project_figures()
    project_figures()
    [flag] = json.loads(program.c.get("/admin/coupons/flagged", headers=auth("finance")).body)["flagged"]
    assert (flag["code"], flag["partner_id"], flag["customers"]) == ("LEAKY", "P-ALICE", 4)
    assert program.c.get("/admin/coupons/flagged", headers=auth("partner", "P-ALICE")).status_code == 403


# ---- shops --------------------------------------------------------------------------------------
@pytest.fixture
def shop(api_any, monkeypatch):
    from chalicelib import bootstrap
    from tests.support.settlement import Clock
    clock = Clock(datetime(2024, 1, 1, tzinfo=UTC))
    monkeypatch.setattr(bootstrap, "now", clock)
    configure(monkeypatch, ENV)
    return Shop(api_any, clock)


def test_a_shopify_order_with_a_partners_discount_code_is_attributed_to_that_partner(shop):
    order = fields("shopify", "orders-paid.json")  # carries discount code SNOW20
    shop.ready(datetime.fromisoformat(order["processed_at"]))
    assert make(shop, "ALICE10", "snow20").status_code == 201
    order["landing_site"] = "/products/the-videographer-snowboard"  # no click
    shop.clock.t = datetime.fromisoformat(order["processed_at"]) + timedelta(seconds=5)
    r = shop.deliver("shopify", body_of(order), topic="orders/paid")
    assert r.status_code == 201, r.body
    [result] = out(r)["results"]
    assert result["attribution"] == {"partner_id": "P-ALICE10", "source": "coupon", "click_id": None,
                                     "coupon_code": "SNOW20"}


@pytest.mark.parametrize("key", ["upline_coupon", "upline_ref"])
def test_a_stripe_checkout_naming_a_partners_coupon_in_its_metadata_is_attributed_to_that_partner(shop, key):
    event = fields("stripe", "checkout.session.completed.json")
    shop.ready(datetime.fromtimestamp(event["created"], UTC))
    shop.enrol("OTHER")
    assert make(shop, "OTHER", "STRIPE15").status_code == 201
    session = event["data"]["object"]
    session["client_reference_id"] = None
    session["metadata"] = {key: "stripe15"}
    shop.clock.t = datetime.fromtimestamp(event["created"] + 5, UTC)
    r = shop.deliver("stripe", body_of(event))
    assert r.status_code == 201, r.body
    [result] = out(r)["results"]
    assert result["attribution"]["source"] == "coupon" and result["attribution"]["partner_id"] == "P-OTHER"
