"""WooCommerce's REST API order samples (tests/events/woocommerce), signed as WC_Webhook signs
them and mapped to Upline's commands; expected amounts are worked out from the fixture's fields."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from chalicelib.integrations import woocommerce_events
from chalicelib.integrations.commands import Ignored, PaymentShareRefund, RemainderRefund, ShopOrder, ShopRefund
from chalicelib.integrations.errors import PayloadRefused
from chalicelib.integrations.signatures import verify_woocommerce
from tests.support.shops import CLICK, body_of, fake_email_hash, fields, raw, woo_headers

SECRET = "wc-secret-=Zp$9k&T2m"
DELIVERY = "7f6c2a0e1b5d4c3a9e8f7d6c5b4a3928"


def commands(body: bytes, topic: str = "order.updated"):
    delivery = verify_woocommerce(woo_headers(body, SECRET, topic), body, secrets=[SECRET])
    return woocommerce_events.to_commands(delivery, hash_email=fake_email_hash)


def test_a_processing_order_is_the_sum_of_its_line_totals_after_discounts_before_tax_shipping_and_fees():
    o = fields("woocommerce", "order.created.processing.json")
    lines = sum(Decimal(li["total"]) for li in o["line_items"])            # 5.40 + 10.80 = 16.20
    fees = sum(Decimal(f["total"]) for f in o["fee_lines"])               # gift wrap 2.00
    # the same figure from the order's totals: 29.42 - tax 1.22 - shipping 10.00 - fees 2.00
    assert lines == Decimal(o["total"]) - Decimal(o["total_tax"]) - Decimal(o["shipping_total"]) - fees
    # and the lines' subtotal - total is exactly the coupon's discount_total (before tax)
    assert sum(Decimal(li["subtotal"]) - Decimal(li["total"]) for li in o["line_items"]) == Decimal(o["discount_total"])
    (order,) = commands(raw("woocommerce", "order.created.processing.json"), "order.created")
    assert order == ShopOrder(
        provider="woocommerce", event_id=DELIVERY, order_id="727", amount_minor=1620, currency="USD",
        occurred_at=datetime(2017, 3, 22, 19, 28, 8, tzinfo=timezone.utc),   # date_paid_gmt, which is UTC
        customer_id=None, customer_email_hash=fake_email_hash("john.doe@example.com"),  # a guest (customer_id 0)
        click_id=CLICK, coupon_codes=("alice10",))


def test_a_completed_order_with_refunds_maps_to_the_order_and_each_refund_as_a_share_of_the_total():
    o = fields("woocommerce", "order.updated.refunded.json")
    order, first, second = commands(raw("woocommerce", "order.updated.refunded.json"))
    assert isinstance(order, ShopOrder) and order.amount_minor == 900 + 2000 and order.customer_id == "26"
    # refunds[] totals are negative ("-10.00", "-9.00") and include whatever tax or shipping went back,
    # so each is a share of the 39.00 the customer paid
    assert [r["total"] for r in o["refunds"]] == ["-10.00", "-9.00"]
    assert first == ShopRefund(provider="woocommerce", event_id=DELIVERY, refund_id="726",
                               amount=PaymentShareRefund(refunded_minor=1000, paid_minor=3900, cumulative=False),
                               currency="USD", occurred_at=datetime(2017, 3, 21, 19, 54, 51, tzinfo=timezone.utc),
                               order_id="723")
    assert (second.refund_id, second.amount.refunded_minor) == ("724", 900)


def test_statuses_before_payment_are_ignored_and_a_refunded_order_yields_only_its_refunds():
    o = fields("woocommerce", "order.updated.refunded.json")
    for status in ("pending", "on-hold", "failed"):
        o["status"] = status
        assert [type(c) for c in commands(body_of(o))] == [Ignored]
    o["status"] = "refunded"
    assert [type(c) for c in commands(body_of(o))] == [ShopRefund, ShopRefund]


def test_a_cancelled_order_refunds_what_is_left():
    o = fields("woocommerce", "order.updated.refunded.json")
    o["status"] = "cancelled"
    (refund,) = commands(body_of(o))
    assert (refund.refund_id, refund.amount, refund.order_id) == ("723:cancelled", RemainderRefund(), "723")


def test_a_topic_upline_does_not_use_is_ignored():
    assert isinstance(commands(raw("woocommerce", "order.updated.refunded.json"), "order.deleted")[0], Ignored)


def test_a_refund_total_that_is_not_negative_is_refused():
    o = fields("woocommerce", "order.updated.refunded.json")
    o["refunds"][0]["total"] = "10.00"
    with pytest.raises(PayloadRefused):
        commands(body_of(o))


@pytest.mark.parametrize("currency, totals, expected", [("JPY", ("1500", "3000.00"), 4500),
                                                         ("KWD", ("1.250", "0.005"), 1255)])
def test_line_totals_convert_exactly_in_zero_and_three_decimal_currencies(currency, totals, expected):
    o = fields("woocommerce", "order.created.processing.json")
    o["currency"] = currency
    for line, total in zip(o["line_items"], totals):
        line["total"] = total
    (order,) = commands(body_of(o), "order.created")
    assert (order.amount_minor, order.currency) == (expected, currency)
    o["line_items"][0]["total"] = {"JPY": "1500.5", "KWD": "1.2501"}[currency]
    with pytest.raises(PayloadRefused) as e:
        commands(body_of(o), "order.created")
    assert e.value.code == "inexact_amount"
