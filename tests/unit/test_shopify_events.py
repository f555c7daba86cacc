"""Shopify's published sample payloads (tests/events/shopify), signed as Shopify documents and
mapped to Upline's commands; expected amounts are worked out from each fixture's own fields."""
import json
import re
from datetime import datetime
from decimal import Decimal

import pytest

from chalicelib.integrations import shopify_events
from chalicelib.integrations.commands import GoodsRefund, Ignored, RemainderRefund, ShopOrder, ShopRefund
from chalicelib.integrations.errors import PayloadRefused
from chalicelib.integrations.signatures import verify_shopify
from tests.support.shops import CLICK, SHOP, body_of, fake_email_hash, fields, raw, shopify_headers

SECRET = "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"


def one(body: bytes, topic: str):
    delivery = verify_shopify(shopify_headers(body, SECRET, topic), body, secrets=[SECRET], shop_domain=SHOP)
    (command,) = shopify_events.to_commands(delivery, hash_email=fake_email_hash)
    return command


def test_a_paid_order_is_the_subtotal_after_discounts_before_shipping_and_tax():
    o = fields("shopify", "orders-paid.json")
    # lines 885.95 + 699.95 = 1585.90, less the SNOW20 code's 20.00 = 1565.90; shipping 10.00 and
    # tax 0.00 are outside the subtotal, which is what current_subtotal_price_set.shop_money says.
    lines = sum(Decimal(line["price"]) * line["quantity"] for line in o["line_items"])
    assert lines - Decimal(o["total_discounts"]) == Decimal(o["current_subtotal_price_set"]["shop_money"]["amount"])
    order = one(raw("shopify", "orders-paid.json"), "orders/paid")
    assert order == ShopOrder(
        provider="shopify", event_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", order_id="820982911946154508",
        amount_minor=156590, currency="USD", occurred_at=datetime.fromisoformat(o["processed_at"]),
        customer_id="115310627314723954", customer_email_hash=fake_email_hash("jon@example.com"),
        click_id=CLICK, coupon_codes=("SNOW20",))


def test_shopify_ids_past_two_to_the_53_stay_exact_strings():
    body = raw("shopify", "orders-paid.json")
    on_the_wire = re.search(rb'^  "id": (\d+),', body, re.M).group(1).decode()
    assert int(on_the_wire) > 2**53 and float(on_the_wire) != int(on_the_wire)  # a float would change it
    order = one(body, "orders/paid")
    assert order.order_id == on_the_wire == "820982911946154508"
    assert order.customer_id == "115310627314723954"
    refund = json.loads(raw("shopify", "refunds-create.json"))
    refund["order_id"] = 820982911946154508
    assert one(body_of(refund), "refunds/create").order_id == "820982911946154508"


def test_the_click_id_also_comes_from_a_note_attribute_and_the_subtotal_from_subtotal_price_when_alone():
    o = fields("shopify", "orders-paid.json")
    o["landing_site"] = "/collections/all"
    o["note_attributes"].append({"name": "upline_click", "value": CLICK})
    for key in [k for k in o if k.startswith("current_")]:
        del o[key]
    order = one(body_of(o), "orders/paid")
    assert (order.click_id, order.amount_minor) == (CLICK, 156590)


def test_with_tax_included_prices_the_goods_tax_comes_off_and_the_shipping_tax_does_not():
    o = fields("shopify", "orders-paid.json")
    for key in [k for k in o if k.startswith("current_")]:
        del o[key]
    # An EU shop, 19% VAT inside every price: goods 119.00 hold 19.00 VAT, shipping 11.90 holds 1.90;
    # total_tax 20.90 holds both, so the goods net of VAT are 119.00 - (20.90 - 1.90) = 100.00.
    o.update(currency="EUR", taxes_included=True, subtotal_price="119.00", total_tax="20.90")
    o["shipping_lines"][0]["tax_lines"] = [{"title": "MwSt", "rate": Decimal("0.19"), "price": "1.90", "price_set": {
        "shop_money": {"amount": "1.90", "currency_code": "EUR"}, "presentment_money": {"amount": "1.90", "currency_code": "EUR"}}}]
    order = one(body_of(o), "orders/paid")
    assert (order.amount_minor, order.currency, order.prices_include_tax) == (10000, "EUR", True)


@pytest.mark.parametrize("currency, subtotal, expected", [
    ("JPY", "15000", 15000), ("JPY", "15000.00", 15000), ("USD", "398.00", 39800), ("KWD", "12.345", 12345),
])
def test_decimal_strings_convert_exactly_by_the_currencys_exponent(currency, subtotal, expected):
    o = fields("shopify", "orders-paid.json")
    o["current_subtotal_price_set"]["shop_money"] = {"amount": subtotal, "currency_code": currency}
    order = one(body_of(o), "orders/paid")
    assert (order.amount_minor, order.currency) == (expected, currency)


@pytest.mark.parametrize("currency, subtotal", [("USD", "398.001"), ("JPY", "15000.5"), ("KWD", "1.2345")])
def test_a_decimal_string_finer_than_the_currency_is_refused_not_rounded(currency, subtotal):
    o = fields("shopify", "orders-paid.json")
    o["current_subtotal_price_set"]["shop_money"] = {"amount": subtotal, "currency_code": currency}
    with pytest.raises(PayloadRefused) as e:
        one(body_of(o), "orders/paid")
    assert e.value.code == "inexact_amount" and e.value.status == 422


def test_a_test_order_is_ignored():
    o = fields("shopify", "orders-paid.json")
    o["test"] = True
    assert isinstance(one(body_of(o), "orders/paid"), Ignored)


def test_a_refund_is_the_refunded_lines_subtotals_with_their_tax_named_apart():
    r = fields("shopify", "refunds-create.json")
    # Each refund line's subtotal_set is Shopify's price x quantity less the line's discount for
    # that quantity: 199.00 - 3.33 and 199.00 - 3.34 (195.66 + 195.67 = 391.33). The 3.98 + 3.98 of
    # tax is reported beside it; transactions (209.00 of money) and shipping are not goods.
    subtotals = [Decimal(li["subtotal_set"]["shop_money"]["amount"]) for li in r["refund_line_items"]]
    assert sum(subtotals) == Decimal("391.33")
    refund = one(raw("shopify", "refunds-create.json"), "refunds/create")
    assert refund == ShopRefund(
        provider="shopify", event_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", refund_id="509562969",
        amount=GoodsRefund(amount_minor=39133, tax_minor=796, includes_tax=None), currency="USD",
        occurred_at=datetime.fromisoformat(r["processed_at"]), order_id="450789469")


def test_a_refund_of_shipping_only_refunds_no_goods():
    r = fields("shopify", "refunds-create.json")
    r["refund_line_items"] = []
    r["refund_shipping_lines"] = [{"id": 623176826, "subtotal_amount_set": {"shop_money": {"amount": "5.00", "currency_code": "USD"}}}]
    assert isinstance(one(body_of(r), "refunds/create"), Ignored)


def test_a_cancelled_order_refunds_what_is_left_once_however_often_it_arrives():
    o = fields("shopify", "orders-cancelled.json")
    refund = one(raw("shopify", "orders-cancelled.json"), "orders/cancelled")
    assert refund == ShopRefund(provider="shopify", event_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
                                refund_id="820982911946154508:cancelled", amount=RemainderRefund(), currency="USD",
                                occurred_at=datetime.fromisoformat(o["cancelled_at"]), order_id="820982911946154508")
    assert one(raw("shopify", "orders-cancelled.json"), "orders/cancelled").refund_id == refund.refund_id


def test_a_topic_upline_does_not_use_is_ignored():
    assert isinstance(one(raw("shopify", "orders-paid.json"), "orders/updated"), Ignored)
