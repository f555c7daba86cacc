"""POST /integrations/{stripe,shopify,woocommerce,paddle} on moto, driven with the providers' published
payloads (tests/events/) signed as the provider signs them (tests/support/shops.py: Stripe by the
`stripe` package's own helper). The clock is set to each payload's own time, so the deliveries are
the fixtures' bytes apart from the attribution fields the test points at its own partners."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import bootstrap
from tests.support.program import WORKED_PLAN, Program, credited, table_snapshot
from tests.support.settlement import Clock
from tests.support.shops import (SHOP, body_of, fields, paddle_headers, shopify_headers, stripe_header,
                                 woo_headers)

STRIPE_SECRET, SHOPIFY_SECRET = "whsec_test0Integration1Secret2", "shpss_test0Integration1Secret2"
WOO_SECRET, PADDLE_SECRET = "wc_test0Integration1Secret2", "pdl_ntfset_test0Integration1Secret2"
ENV = {"UPLINE_STRIPE_WEBHOOK_SECRETS": f"{STRIPE_SECRET},whsec_previous",
       "UPLINE_SHOPIFY_WEBHOOK_SECRETS": SHOPIFY_SECRET, "UPLINE_SHOPIFY_SHOP_DOMAIN": SHOP,
       "UPLINE_WOOCOMMERCE_WEBHOOK_SECRETS": WOO_SECRET, "UPLINE_PADDLE_WEBHOOK_SECRETS": PADDLE_SECRET}
UTC = timezone.utc


def configure(monkeypatch, env: dict[str, str]) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    bootstrap.settings.cache_clear()


@pytest.fixture
def clock(monkeypatch):
    c = Clock(datetime(2024, 1, 1, tzinfo=UTC))
    monkeypatch.setattr(bootstrap, "now", c)
    return c


@pytest.fixture
def shop(api_any, clock, monkeypatch):
    """The API on moto and, with -m integration, again on DynamoDB Local."""
    configure(monkeypatch, ENV)
    return Shop(api_any, clock)


class Shop(Program):
    """A program of three levels (ROOT > MID > ALICE10), ready a day before `when`."""

    def __init__(self, client, clock: Clock):
        super().__init__(client)
        self.clock = clock

    def ready(self, when: datetime) -> None:
        self.clock.t = when - timedelta(days=1)
        self.publish_plan({**WORKED_PLAN, "effective_from": "2010-01-01T00:00:00Z"})  # WooCommerce's are 2017
        self.chain(["ROOT", "MID", "ALICE10"])
        self.clock.t = when - timedelta(minutes=30)

    def click(self) -> str:
        return self.follow(self.link("ALICE10"))

    def deliver(self, provider: str, body: bytes, **kw):
        return self.c.post(f"/integrations/{provider}", headers=headers(provider, body, **kw), body=body)


def headers(provider: str, body: bytes, *, topic: str = "", secret: str | None = None, at: int | None = None,
            delivery: str | None = None, shop_domain: str = SHOP) -> dict[str, str]:
    ts = int(bootstrap.now().timestamp()) if at is None else at
    if provider == "stripe":
        return stripe_header(body, secret or STRIPE_SECRET, ts)
    if provider == "shopify":
        return shopify_headers(body, secret or SHOPIFY_SECRET, topic, shop_domain,
                               **({"webhook_id": delivery} if delivery else {}))
    if provider == "woocommerce":
        return woo_headers(body, secret or WOO_SECRET, topic, **({"delivery_id": delivery} if delivery else {}))
    return paddle_headers(body, [secret or PADDLE_SECRET], ts)


def out(r) -> dict:
    return json.loads(r.body)


def generic_commissions(shop: Shop, amount: int, currency: str = "USD") -> dict[str, int]:
    """What the generic signed webhook credits for the same amount through the same partner."""
    r = shop.order(f"generic-{amount}-{currency}", amount, customer="generic-buyer", currency=currency,
                   at=bootstrap.now() - timedelta(seconds=1), referral_code="ALICE10")
    assert r.status_code == 201, r.body
    return credited(r)


def commissions_of(result: dict) -> dict[str, int]:
    return {c["partner_id"]: c["amount_minor"] for c in result["commissions"]}


# ---- the four providers' orders -------------------------------------------------------------------
def stripe_checkout(shop: Shop) -> tuple[dict, int]:
    event = fields("stripe", "checkout.session.completed.json")
    shop.ready(datetime.fromtimestamp(event["created"], UTC))
    session = event["data"]["object"]
    session["client_reference_id"] = shop.click()
    shop.clock.t = datetime.fromtimestamp(event["created"] + 5, UTC)
    t = session["total_details"]
    return event, session["amount_total"] - t["amount_tax"] - t["amount_shipping"]


def test_a_stripe_checkout_credits_what_the_generic_webhook_credits_for_its_goods_amount(shop):
    event, goods = stripe_checkout(shop)
    r = shop.deliver("stripe", body_of(event))
    assert r.status_code == 201, r.body
    [result] = out(r)["results"]
    assert result["order_id"] == f"stripe:{event['data']['object']['id']}"
    assert result["status"] == "attributed" and result["attribution"]["source"] == "click"
    assert result["amount_minor"] == goods == 9000
    assert commissions_of(result) == generic_commissions(shop, goods) == {"P-ALICE10": 900, "P-MID": 450,
                                                                         "P-ROOT": 180}


def test_a_shopify_paid_order_credits_what_the_generic_webhook_credits_for_its_subtotal(shop):
    order = fields("shopify", "orders-paid.json")
    shop.ready(datetime.fromisoformat(order["processed_at"]))
    order["landing_site"] = f"/products/the-videographer-snowboard?utm_source=partner&upline_click={shop.click()}"
    shop.clock.t = datetime.fromisoformat(order["processed_at"]) + timedelta(seconds=5)
    r = shop.deliver("shopify", body_of(order), topic="orders/paid")
    assert r.status_code == 201, r.body
    [result] = out(r)["results"]
    assert result["order_id"] == "shopify:820982911946154508"  # kept exact: the id exceeds 2**53
    assert result["status"] == "attributed" and result["amount_minor"] == 156590
    assert commissions_of(result) == generic_commissions(shop, 156590)
    stored = json.dumps(table_snapshot(), default=str)
    assert "example.com" not in stored.replace("shop.example.com", "")  # no buyer e-mail, only its keyed hash
    assert "123 Elm St." not in stored and "Happy birthday" not in stored  # and no payload


def test_a_woocommerce_processing_order_credits_what_the_generic_webhook_credits_for_its_line_totals(shop):
    order = fields("woocommerce", "order.created.processing.json")
    shop.ready(datetime.fromisoformat(order["date_paid_gmt"]).replace(tzinfo=UTC))
    for entry in order["meta_data"]:
        if entry["key"] == "upline_click":
            entry["value"] = shop.click()
    shop.clock.t = datetime.fromisoformat(order["date_modified_gmt"]).replace(tzinfo=UTC) + timedelta(seconds=5)
    r = shop.deliver("woocommerce", body_of(order), topic="order.created")
    assert r.status_code == 201, r.body
    [result] = out(r)["results"]
    assert result["order_id"] == "woocommerce:727" and result["amount_minor"] == 540 + 1080
    assert result["status"] == "attributed"
    assert commissions_of(result) == generic_commissions(shop, 1620)


def paddle_transaction(shop: Shop) -> dict:
    event = fields("paddle", "transaction.completed.json")
    at = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
    shop.ready(at)
    event["data"]["custom_data"]["upline_click"] = shop.click()
    shop.clock.t = at + timedelta(seconds=5)
    return event


def test_a_paddle_completed_transaction_credits_what_the_generic_webhook_credits_before_tax(shop):
    event = paddle_transaction(shop)
    totals = event["data"]["details"]["totals"]
    goods = int(totals["grand_total"]) - int(totals["tax"])
    r = shop.deliver("paddle", body_of(event))
    assert r.status_code == 201, r.body
    [result] = out(r)["results"]
    assert result["order_id"] == "paddle:txn_01hv8wptq8987qeep44cyrewp9" and result["amount_minor"] == goods
    assert commissions_of(result) == generic_commissions(shop, goods)


def test_an_approved_paddle_refund_adjustment_reverses_its_share_and_a_pending_one_writes_nothing(shop):
    event = paddle_transaction(shop)
    assert shop.deliver("paddle", body_of(event)).status_code == 201
    pending = fields("paddle", "adjustment.created.json")
    pending["data"]["transaction_id"] = event["data"]["id"]
    shop.clock.t = datetime.fromisoformat(pending["occurred_at"].replace("Z", "+00:00")) + timedelta(seconds=5)
    before = table_snapshot()
    r = shop.deliver("paddle", body_of(pending))
    assert r.status_code == 200 and out(r)["results"][0]["status"] == "ignored" and table_snapshot() == before
    approved = fields("paddle", "adjustment.updated.json")
    shop.clock.t = datetime.fromisoformat(approved["occurred_at"].replace("Z", "+00:00")) + timedelta(seconds=5)
    r = shop.deliver("paddle", body_of(approved))
    assert r.status_code == 201, r.body
    [result] = out(r)["results"]
    assert result["amount_minor"] == int(approved["data"]["totals"]["subtotal"]) == 92


# ---- idempotency --------------------------------------------------------------------------------
def test_a_redelivered_stripe_event_answers_200_and_changes_nothing(shop):
    event, _ = stripe_checkout(shop)
    first = shop.deliver("stripe", body_of(event))
    assert first.status_code == 201
    before = table_snapshot()
    again = shop.deliver("stripe", body_of(event))
    assert again.status_code == 200 and again.headers["Idempotent-Replay"] == "true"
    assert out(again)["results"] == out(first)["results"] and table_snapshot() == before


def test_the_same_stripe_order_in_another_event_is_a_replay_not_a_conflict(shop):
    event, _ = stripe_checkout(shop)
    assert shop.deliver("stripe", body_of(event)).status_code == 201
    before = table_snapshot()
    event["id"] = "evt_1PgcA2B7WZ01zgkWanotherOne"  # e.g. async_payment_succeeded after completed
    r = shop.deliver("stripe", body_of(event))
    assert r.status_code == 200 and table_snapshot() == before


def test_a_shopify_order_redelivered_under_a_new_webhook_id_changes_nothing(shop):
    order = fields("shopify", "orders-paid.json")
    shop.ready(datetime.fromisoformat(order["processed_at"]))
    order["landing_site"] = f"/?upline_click={shop.click()}"
    shop.clock.t = datetime.fromisoformat(order["processed_at"]) + timedelta(seconds=5)
    assert shop.deliver("shopify", body_of(order), topic="orders/paid").status_code == 201
    before = table_snapshot()
    for delivery in (None, "0c4f5d2e-another-delivery"):
        r = shop.deliver("shopify", body_of(order), topic="orders/paid", delivery=delivery)
        assert r.status_code == 200, r.body
    assert table_snapshot() == before


def test_a_woocommerce_order_updated_after_it_was_recorded_replays_and_its_listed_refunds_apply_once(shop):
    order = fields("woocommerce", "order.updated.refunded.json")  # order 723, with refunds 726 and 724
    modified = datetime.fromisoformat(order["date_modified_gmt"]).replace(tzinfo=UTC)
    shop.ready(modified - timedelta(hours=1))
    refunds = order.pop("refunds")
    order.update(status="processing", meta_data=[{"id": 1, "key": "upline_ref", "value": "ALICE10"}],
                 date_paid_gmt=(modified - timedelta(hours=1)).isoformat()[:19])
    shop.clock.t = modified - timedelta(minutes=50)
    placed = shop.deliver("woocommerce", body_of(order), topic="order.created", delivery="d-1")
    assert placed.status_code == 201, placed.body
    assert out(placed)["results"][0]["amount_minor"] == 900 + 2000
    order.update(status="completed", refunds=refunds)
    shop.clock.t = modified + timedelta(seconds=5)
    r = shop.deliver("woocommerce", body_of(order), topic="order.updated", delivery="d-2")
    assert r.status_code == 201, r.body
    replay, *refunded = out(r)["results"]
    assert replay == out(placed)["results"][0]
    # each refund's share of what was paid (39.00), of the order's base (29.00)
    assert [x["amount_minor"] for x in refunded] == [2900 * 1000 // 3900, 2900 * 900 // 3900]
    before = table_snapshot()
    assert shop.deliver("woocommerce", body_of(order), topic="order.updated", delivery="d-3").status_code == 200
    assert table_snapshot() == before


def test_the_woocommerce_ping_answers_200_and_writes_nothing(shop):
    before = table_snapshot()
    r = shop.c.post("/integrations/woocommerce", headers={"Content-Type": "application/x-www-form-urlencoded"},
                    body=b"webhook_id=12")
    assert r.status_code == 200 and out(r)["status"] == "ping" and table_snapshot() == before


def test_an_event_type_upline_does_not_use_answers_200_and_writes_nothing(shop):
    event = fields("stripe", "plan.created.json")
    shop.clock.t = datetime.fromtimestamp(event["created"], UTC)
    before = table_snapshot()
    r = shop.deliver("stripe", body_of(event))
    assert r.status_code == 200 and out(r)["results"][0]["status"] == "ignored" and table_snapshot() == before


# ---- refunds ----------------------------------------------------------------------------------
def test_a_partial_then_full_stripe_charge_refunded_refunds_only_the_increase(shop):
    event, goods = stripe_checkout(shop)
    placed = out(shop.deliver("stripe", body_of(event)))["results"][0]
    refunded = []
    for name in ("charge.refunded.partial.json", "charge.refunded.full.json"):
        charge = fields("stripe", name)
        shop.clock.t = datetime.fromtimestamp(charge["created"] + 5, UTC)
        r = shop.deliver("stripe", body_of(charge))
        assert r.status_code == 201, r.body
        refunded.append(out(r)["results"][0])
        before = table_snapshot()   # and a redelivery of either changes nothing
        assert shop.deliver("stripe", body_of(charge)).status_code == 200 and table_snapshot() == before
    assert [x["amount_minor"] for x in refunded] == [goods * 5110 // 10220, goods - goods * 5110 // 10220]
    assert refunded[-1]["refunded_total_minor"] == goods
    # every level's commission is reversed in full across the two refunds
    for partner, amount in commissions_of(placed).items():
        assert sum(v["amount_minor"] for x in refunded for v in x["reversals"] if v["partner_id"] == partner) == -amount


def test_the_partial_stripe_refund_arriving_after_the_full_one_writes_nothing(shop):
    event, goods = stripe_checkout(shop)
    shop.deliver("stripe", body_of(event))
    full, partial = fields("stripe", "charge.refunded.full.json"), fields("stripe", "charge.refunded.partial.json")
    shop.clock.t = datetime.fromtimestamp(full["created"] + 5, UTC)
    assert out(shop.deliver("stripe", body_of(full)))["results"][0]["amount_minor"] == goods
    before = table_snapshot()
    r = shop.deliver("stripe", body_of(partial))
    assert r.status_code == 200 and out(r)["results"][0]["status"] == "ignored" and table_snapshot() == before


def test_a_lost_stripe_dispute_never_seen_open_refunds_what_is_left(shop):
    event, goods = stripe_checkout(shop)
    shop.deliver("stripe", body_of(event))
    lost = fields("stripe", "charge.dispute.closed.json")
    shop.clock.t = datetime.fromtimestamp(lost["created"] + 5, UTC)
    r = shop.deliver("stripe", body_of(lost))
    assert r.status_code == 201, r.body
    assert out(r)["results"][0]["amount_minor"] == goods  # (opened, won and lost: tests/api/test_disputes.py)


def shopify_paid(shop: Shop) -> dict:
    order = fields("shopify", "orders-paid.json")
    shop.ready(datetime.fromisoformat(order["processed_at"]))
    order["landing_site"] = f"/?upline_click={shop.click()}"
    shop.clock.t = datetime.fromisoformat(order["processed_at"]) + timedelta(seconds=5)
    r = shop.deliver("shopify", body_of(order), topic="orders/paid")
    assert r.status_code == 201, r.body
    return out(r)["results"][0]


def test_a_shopify_refund_reverses_the_refunded_lines_value_without_tax_then_a_cancel_the_rest(shop):
    placed = shopify_paid(shop)
    refund = fields("shopify", "refunds-create.json")  # Shopify's sample refund of two lines
    refund["order_id"] = 820982911946154508
    lines = sum(int(x["subtotal_set"]["shop_money"]["amount"].replace(".", "")) for x in refund["refund_line_items"])
    shop.clock.t = datetime.fromisoformat(refund["processed_at"]) + timedelta(seconds=5)
    r = shop.deliver("shopify", body_of(refund), topic="refunds/create")
    assert r.status_code == 201, r.body
    assert out(r)["results"][0]["amount_minor"] == lines == 39133  # the order's prices exclude tax
    cancelled = fields("shopify", "orders-paid.json")
    cancelled["cancelled_at"] = (shop.clock.t + timedelta(minutes=1)).isoformat()
    shop.clock.t += timedelta(minutes=2)
    r = shop.deliver("shopify", body_of(cancelled), topic="orders/cancelled", delivery="cancel-1")
    assert r.status_code == 201, r.body
    rest = out(r)["results"][0]
    assert rest["amount_minor"] == placed["amount_minor"] - lines
    assert rest["refunded_total_minor"] == placed["amount_minor"]


def test_a_refund_of_an_order_upline_never_recorded_answers_200_and_writes_nothing(shop):
    refund = fields("shopify", "refunds-create.json")
    shop.clock.t = datetime.fromisoformat(refund["processed_at"]) + timedelta(seconds=5)
    before = table_snapshot()
    r = shop.deliver("shopify", body_of(refund), topic="refunds/create")
    assert r.status_code == 200 and out(r)["results"][0]["status"] == "ignored" and table_snapshot() == before


# ---- refusals write nothing -------------------------------------------------------------------------
def deliveries(shop: Shop) -> dict[str, tuple[bytes, str]]:
    stripe_event, _ = stripe_checkout(shop)
    return {"stripe": (body_of(stripe_event), ""),
            "shopify": (body_of(fields("shopify", "orders-paid.json")), "orders/paid"),
            "woocommerce": (body_of(fields("woocommerce", "order.created.processing.json")), "order.created"),
            "paddle": (body_of(fields("paddle", "transaction.completed.json")), "")}


@pytest.mark.parametrize("provider", ["stripe", "shopify", "woocommerce", "paddle"])
def test_a_wrong_signature_is_refused_401_and_writes_nothing(shop, provider):
    body, topic = deliveries(shop)[provider]
    before = table_snapshot()
    r = shop.deliver(provider, body, topic=topic, secret="not-the-configured-secret")
    assert r.status_code == 401 and out(r)["error"]["code"] == "signature_mismatch"
    assert table_snapshot() == before


@pytest.mark.parametrize("provider", ["stripe", "shopify", "woocommerce", "paddle"])
def test_a_body_changed_after_signing_is_refused_401_and_writes_nothing(shop, provider):
    body, topic = deliveries(shop)[provider]
    signed = headers(provider, body, topic=topic)
    before = table_snapshot()
    r = shop.c.post(f"/integrations/{provider}", headers=signed, body=body.replace(b"USD", b"EUR", 1)
                    if b"USD" in body else body.replace(b"usd", b"eur", 1))
    assert r.status_code == 401 and table_snapshot() == before


@pytest.mark.parametrize("provider", ["stripe", "paddle"])
def test_a_stale_stripe_or_paddle_timestamp_is_refused_401_and_writes_nothing(shop, provider):
    body, _ = deliveries(shop)[provider]
    before = table_snapshot()
    r = shop.deliver(provider, body, at=int(bootstrap.now().timestamp()) - 301)
    assert r.status_code == 401 and out(r)["error"]["code"] == "signature_expired"
    assert table_snapshot() == before


def test_a_shopify_delivery_for_another_shop_is_refused_401_and_writes_nothing(shop):
    body, topic = deliveries(shop)["shopify"]
    before = table_snapshot()
    r = shop.deliver("shopify", body, topic=topic, shop_domain="someone-else.myshopify.com")
    assert r.status_code == 401 and out(r)["error"]["code"] == "shop_mismatch"
    assert table_snapshot() == before


@pytest.mark.parametrize("provider,variable", [("stripe", "UPLINE_STRIPE_WEBHOOK_SECRETS"),
                                               ("shopify", "UPLINE_SHOPIFY_WEBHOOK_SECRETS"),
                                               ("shopify", "UPLINE_SHOPIFY_SHOP_DOMAIN"),
                                               ("woocommerce", "UPLINE_WOOCOMMERCE_WEBHOOK_SECRETS"),
                                               ("paddle", "UPLINE_PADDLE_WEBHOOK_SECRETS")])
def test_an_unconfigured_provider_answers_404_in_the_error_shape_and_writes_nothing(shop, monkeypatch, provider,
                                                                                     variable):
    body, topic = deliveries(shop)[provider]
    monkeypatch.delenv(variable)
    bootstrap.settings.cache_clear()
    before = table_snapshot()
    r = shop.deliver(provider, body, topic=topic)
    assert r.status_code == 404 and set(out(r)["error"]) == {"code", "message"}
    assert table_snapshot() == before


def test_the_four_routes_are_in_the_openapi_document(api):
    paths = out(api.http.get("/openapi.json"))["paths"]
    assert all(f"/integrations/{p}" in paths for p in ("stripe", "shopify", "woocommerce", "paddle"))
