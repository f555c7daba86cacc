"""Stripe's published payload shapes (tests/events/stripe, from stripe/openapi's fixtures3.json)
signed by the stripe package and mapped to Upline's commands; expected amounts are worked out
here from each fixture's own fields."""
import copy
from datetime import datetime, timezone

import pytest

from chalicelib.integrations import stripe_events
from chalicelib.integrations.commands import (LOST, OPENED, WON, Ignored, PaymentShareRefund, ShopDispute, ShopOrder,
                                              ShopRefund)
from chalicelib.integrations.errors import PayloadRefused
from chalicelib.integrations.signatures import verify_stripe
from tests.support.shops import CLICK, NOW, body_of, fake_email_hash, fields, raw, stripe_header

SECRET = "whsec_test4Upline5Stripe6"


def commands(body: bytes):
    delivery = verify_stripe(stripe_header(body, SECRET, NOW), body, secrets=[SECRET], now=NOW)
    return stripe_events.to_commands(delivery, hash_email=fake_email_hash)


def one(body: bytes):
    (command,) = commands(body)
    return command


def at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def test_a_paid_checkout_session_is_an_order_of_the_goods_after_discount_before_tax_and_shipping():
    event = fields("stripe", "checkout.session.completed.json")
    s = event["data"]["object"]
    # amount_total 10220 = subtotal 10000 - discount 1000 + shipping 500 + tax 720, so the goods
    # after discount are amount_total - amount_tax - amount_shipping = 10220 - 720 - 500 = 9000.
    expected = s["amount_total"] - s["total_details"]["amount_tax"] - s["total_details"]["amount_shipping"]
    assert expected == 9000 == s["amount_subtotal"] - s["total_details"]["amount_discount"]
    order = one(raw("stripe", "checkout.session.completed.json"))
    assert order == ShopOrder(
        provider="stripe", event_id=event["id"], order_id=s["id"], amount_minor=9000, currency="USD",
        occurred_at=at(event["created"]), customer_id="cus_QXg1o8vcGmoR32",
        customer_email_hash=fake_email_hash("jenny.rosen@example.com"), click_id=CLICK, referral_code="ALICE10",
        payment_intent="pi_1PgafyB7WZ01zgkWSjxsAJo3")
    assert "jenny.rosen" not in repr(order)


def test_the_click_id_comes_from_metadata_when_client_reference_id_is_not_one():
    event = fields("stripe", "checkout.session.completed.json")
    s = event["data"]["object"]
    s["client_reference_id"] = "user 42@shop"          # the shop's own use of the field: not a click id
    s["metadata"]["upline_click"] = CLICK
    assert one(body_of(event)).click_id == CLICK
    del s["metadata"]["upline_click"]
    assert one(body_of(event)).click_id is None


def test_an_unpaid_or_subscription_checkout_is_ignored_and_a_delayed_payment_counts_when_it_succeeds():
    event = fields("stripe", "checkout.session.completed.json")
    event["data"]["object"]["payment_status"] = "unpaid"
    assert isinstance(one(body_of(event)), Ignored)
    event["type"] = "checkout.session.async_payment_succeeded"
    event["data"]["object"]["payment_status"] = "paid"
    assert one(body_of(event)).amount_minor == 9000
    event["data"]["object"]["mode"] = "subscription"  # its invoices are the orders
    assert "invoice.paid" in one(body_of(event)).reason


def test_a_paid_invoice_is_an_order_of_the_money_paid_less_tax_with_its_subscription_and_service_period():
    event = fields("stripe", "invoice.paid.json")
    inv = event["data"]["object"]
    # amount_paid 2400 - amount_overpaid 0 - tax (total 2400 - total_excluding_tax 2000 = 400) - shipping 0 = 2000
    expected = inv["amount_paid"] - inv["amount_overpaid"] - (inv["total"] - inv["total_excluding_tax"])
    assert expected == 2000
    order = one(raw("stripe", "invoice.paid.json"))
    assert (order.order_id, order.amount_minor, order.currency) == (inv["id"], 2000, "USD")
    assert order.subscription_id == inv["parent"]["subscription_details"]["subscription"]
    assert order.click_id == CLICK  # subscription_data.metadata reaches the invoice
    # the line's service period, not invoice.period_start (the previous period for a renewal)
    assert order.billing_period_start == at(inv["lines"]["data"][0]["period"]["start"]) != at(inv["period_start"])
    assert order.customer_email_hash == fake_email_hash(inv["customer_email"])


def test_an_invoice_paid_partly_from_the_customers_balance_counts_only_the_new_money_less_all_its_tax():
    event = fields("stripe", "invoice.paid.json")
    inv = event["data"]["object"]
    inv.update(amount_paid=1200, starting_balance=-1200)  # 1200 of the 2400 came from a credit balance
    assert one(body_of(event)).amount_minor == 1200 - 400
    inv.update(amount_paid=0)                              # a trial or fully credited invoice
    assert isinstance(one(body_of(event)), Ignored)


def test_cumulative_charge_refunded_events_map_to_two_refunds_whose_increases_sum_to_the_charge():
    partial, full = (one(raw("stripe", name)) for name in ("charge.refunded.partial.json", "charge.refunded.full.json"))
    for refund in (partial, full):
        assert isinstance(refund, ShopRefund) and refund.payment_intent == "pi_1PgafyB7WZ01zgkWSjxsAJo3"
        assert refund.amount.cumulative and refund.amount.paid_minor == 10220
    assert (partial.amount.refunded_minor, full.amount.refunded_minor) == (5110, 10220)
    assert partial.refund_id != full.refund_id
    assert partial.refund_ids == ("re_3PgafyB7WZ01zgkW0aGq8b1c",)
    assert set(full.refund_ids) == {"re_3PgafyB7WZ01zgkW0aGq8b1c", "re_3PgafyB7WZ01zgkW2b7Hh3Xk"}
    # what the service will refund: each event's increase over the last recorded figure
    increases = [partial.amount.refunded_minor, full.amount.refunded_minor - partial.amount.refunded_minor]
    assert sum(increases) == 10220 and increases == [5110, 5110]
    assert one(raw("stripe", "charge.refunded.partial.json")).refund_id == partial.refund_id  # a redelivery


def test_disputes_open_and_close_as_won_or_lost():
    opened = one(raw("stripe", "charge.dispute.created.json"))
    assert isinstance(opened, ShopDispute) and opened.status == OPENED and opened.amount_minor == 10220
    assert opened.payment_intent == "pi_1PgafyB7WZ01zgkWSjxsAJo3" and opened.charge_id == "ch_1PgafuB7WZ01zgkWXYmPNZs8"
    assert one(raw("stripe", "charge.dispute.closed.json")).status == LOST
    event = fields("stripe", "charge.dispute.closed.json")
    for status in ("won", "warning_closed"):
        event["data"]["object"]["status"] = status
        assert one(body_of(event)).status == WON


def test_an_event_upline_does_not_use_is_ignored():
    ignored = one(raw("stripe", "plan.created.json"))
    assert ignored == Ignored("stripe", "evt_1Pgc76B7WZ01zgkWwyRHS12y", "plan.created is not an event Upline uses")


@pytest.mark.parametrize("currency, amount_total, expected", [
    ("jpy", 9000 + 720 + 500, 9000),        # zero-decimal in Stripe and in ISO
    ("kwd", 9000 + 720 + 500, 9000),        # three-decimal in both (Stripe wants the last digit 0)
    ("isk", 900000 + 720 + 500, 9000),      # Stripe counts ISK in hundredths, ISO in kronur
])
def test_stripe_amounts_become_iso_minor_units(currency, amount_total, expected):
    event = fields("stripe", "checkout.session.completed.json")
    event["data"]["object"].update(currency=currency, amount_total=amount_total)
    order = one(body_of(event))
    assert (order.amount_minor, order.currency) == (expected, currency.upper())


def test_an_isk_amount_with_hundredths_of_a_krona_is_refused_rather_than_rounded():
    event = fields("stripe", "checkout.session.completed.json")
    event["data"]["object"].update(currency="isk", amount_total=900050 + 720 + 500)
    with pytest.raises(PayloadRefused) as e:
        one(body_of(event))
    assert e.value.code == "inexact_amount"


def test_a_malformed_stripe_object_is_refused_as_unprocessable_not_a_server_error():
    event = fields("stripe", "checkout.session.completed.json")
    event["data"]["object"]["amount_total"] = "10220"
    with pytest.raises(PayloadRefused):
        one(body_of(event))
    broken = copy.deepcopy(event)
    broken["data"] = []
    with pytest.raises(PayloadRefused):
        one(body_of(broken))


def test_refund_amounts_are_a_share_of_what_was_captured():
    refund = one(raw("stripe", "charge.refunded.partial.json"))
    assert refund.amount == PaymentShareRefund(refunded_minor=5110, paid_minor=10220, cumulative=True)
