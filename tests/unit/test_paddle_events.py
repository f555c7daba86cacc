"""Paddle Billing's published notification samples (tests/events/paddle), signed as Paddle
documents and mapped to Upline's commands; expected amounts come from each fixture's fields."""
from datetime import datetime

from chalicelib.integrations import paddle_events
from chalicelib.integrations.commands import GoodsRefund, Ignored, ShopOrder, ShopRefund
from chalicelib.integrations.signatures import verify_paddle
from tests.support.shops import CLICK, NOW, body_of, fake_email_hash, fields, paddle_headers, raw

SECRET = "pdl_ntfset_01hv8x2af22vrrz7k67g06x1kq_T3stS3cr3tForUpl1neW3bh00k"


def one(body: bytes):
    delivery = verify_paddle(paddle_headers(body, [SECRET], NOW), body, secrets=[SECRET], now=NOW)
    (command,) = paddle_events.to_commands(delivery, hash_email=fake_email_hash)
    return command


def test_a_completed_transaction_is_an_order_after_discount_before_tax():
    event = fields("paddle", "transaction.completed.json")
    t = event["data"]["details"]["totals"]
    # subtotal 59900 - discount 0 = 59900, the same as grand_total 65215 - tax 5315 (no credit applied)
    assert int(t["subtotal"]) - int(t["discount"]) == int(t["grand_total"]) - int(t["tax"]) == 59900
    order = one(raw("paddle", "transaction.completed.json"))
    assert order == ShopOrder(
        provider="paddle", event_id="evt_01hv8x2acma2gz41f8w8vgwm69", order_id="txn_01hv8wptq8987qeep44cyrewp9",
        amount_minor=59900, currency="USD", occurred_at=datetime.fromisoformat("2024-04-12T10:18:49.621022+00:00"),
        customer_id="ctm_01hv6y1jedq4p1n0yqn5ba3ky4", click_id=CLICK,
        subscription_id="sub_01hv8x29kz0t586xy6zn1a62ny",
        billing_period_start=datetime.fromisoformat("2024-04-12T10:18:47.635628+00:00"))


def test_credit_from_the_customers_balance_is_not_new_money():
    event = fields("paddle", "transaction.completed.json")
    t = event["data"]["details"]["totals"]
    t.update(credit="10000", grand_total=str(65215 - 10000))
    assert one(body_of(event)).amount_minor == 65215 - 10000 - 5315


def test_an_approved_refund_adjustment_refunds_its_amount_before_tax():
    event = fields("paddle", "adjustment.updated.json")
    # totals.total 100 = subtotal 92 + tax 8: the goods refunded before tax are 92
    assert int(event["data"]["totals"]["subtotal"]) == 92
    refund = one(raw("paddle", "adjustment.updated.json"))
    assert refund == ShopRefund(
        provider="paddle", event_id="evt_01hvgfbdwcmr2pzrm8x0fbm4jq", refund_id="adj_01hvgf2s84dr6reszzg29zbvcm",
        amount=GoodsRefund(amount_minor=92, includes_tax=False), currency="USD",
        occurred_at=datetime.fromisoformat("2024-04-15T08:54:10.893415+00:00"), order_id="txn_01hv8wptq8987qeep44cyrewp9")


def test_a_refund_waiting_for_approval_or_a_credit_adjustment_is_ignored():
    assert "pending_approval" in one(raw("paddle", "adjustment.created.json")).reason
    event = fields("paddle", "adjustment.updated.json")
    event["data"]["action"] = "credit"
    assert isinstance(one(body_of(event)), Ignored)


def test_an_event_upline_does_not_use_is_ignored():
    event = fields("paddle", "transaction.completed.json")
    event["event_type"] = "transaction.billed"
    assert isinstance(one(body_of(event)), Ignored)
