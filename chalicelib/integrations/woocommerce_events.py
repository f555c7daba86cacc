"""WooCommerce order webhooks as Upline commands. The payload is the REST API's order (v3);
money arrives as decimal strings in the order's currency."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import payload as p
from .commands import WOOCOMMERCE, Command, Ignored, PaymentShareRefund, RemainderRefund, ShopOrder, ShopRefund
from .errors import PayloadRefused
from .signatures import Delivery

PAID = ("processing", "completed")  # WooCommerce sets "processing" once payment is received


def to_commands(delivery: Delivery, *, hash_email: Callable[[str], str]) -> tuple[Command, ...]:
    """An order.created or order.updated delivery: the order once paid, each refund listed in it
    (a redelivered refund repeats its id), or a full refund of what is left when it is cancelled."""
    if delivery.topic not in ("order.created", "order.updated"):
        return (Ignored(WOOCOMMERCE, delivery.delivery_id, f"{delivery.topic} is not a topic Upline uses"),)
    order, status = delivery.payload, delivery.payload.get("status")
    order_id = p.provider_id(order, "id")
    currency = p.currency(order, "currency")
    if status == "cancelled":
        return (
            ShopRefund(
                WOOCOMMERCE,
                delivery.delivery_id,
                f"{order_id}:cancelled",
                RemainderRefund(),
                currency,
                p.instant(order, "date_modified_gmt", naive_is_utc=True),
                order_id=order_id,
            ),
        )
    commands: list[Command] = []
    if status in PAID:
        commands.append(_order(delivery, order, order_id, currency, hash_email))
    if status in PAID or status == "refunded":
        commands.extend(_refunds(delivery, order, order_id, currency))
    return tuple(commands) or (Ignored(WOOCOMMERCE, delivery.delivery_id, f"order status {status!r}"),)


def _meta(order: dict, key: str) -> Any:
    for entry in p.items(order, "meta_data"):
        if p.at(entry, "key") == key:
            return p.at(entry, "value")
    return None


def _order(d: Delivery, order: dict, order_id: str, currency: str, hash_email: Callable[[str], str]) -> Command:
    # Commission base = the sum of the line items' `total`: each is the line after discounts and
    # before tax (WooCommerce keeps line totals net of tax even when prices are entered with tax),
    # so it leaves out shipping_total, fee_lines (surcharges, gift wrap) and every tax by
    # construction. It equals total - total_tax - shipping_total - fees, and discount_total is
    # the sum of the lines' subtotal - total; the line sum needs no subtraction to be exact.
    base = sum(
        p.decimal_money(p.at(line, "total"), currency, f"line_items.{i}.total")
        for i, line in enumerate(p.items(order, "line_items"))
    )
    if base <= 0:
        return Ignored(WOOCOMMERCE, d.delivery_id, "nothing was paid for goods")
    customer = p.at(order, "customer_id")
    email = p.optional_text(order, "billing", "email")
    paid_at = "date_paid_gmt" if order.get("date_paid_gmt") else "date_created_gmt"
    return ShopOrder(
        provider=WOOCOMMERCE,
        event_id=d.delivery_id,
        order_id=order_id,
        amount_minor=base,
        currency=currency,
        occurred_at=p.instant(order, paid_at, naive_is_utc=True),
        customer_id=p.optional_id(order, "customer_id") if customer not in (0, None) else None,  # 0: a guest
        customer_email_hash=hash_email(email) if email else None,
        click_id=p.click_id(_meta(order, "upline_click")),
        referral_code=p.code(_meta(order, "upline_ref")),
        coupon_codes=p.codes([p.at(c, "code") for c in p.items(order, "coupon_lines")]),
    )


def _refunds(d: Delivery, order: dict, order_id: str, currency: str) -> list[Command]:
    """The order lists each refund as {id, reason, total} with a negative total ("-10.00") that
    includes any tax and shipping refunded: the order payload does not break it down, so each is
    a share of what the customer paid (`total`)."""
    refunds = p.items(order, "refunds")
    if not refunds:
        return []
    paid = p.decimal_money(order.get("total"), currency, "total")
    when = p.instant(order, "date_modified_gmt", naive_is_utc=True)  # refunds carry no date of their own
    out: list[Command] = []
    for i, refund in enumerate(refunds):
        value = p.decimal_money(p.at(refund, "total"), currency, f"refunds.{i}.total")
        if value >= 0 or -value > paid:
            raise PayloadRefused(
                f"refunds.{i}.total is not a negative amount within the order's total", code="invalid_payload"
            )
        out.append(
            ShopRefund(
                provider=WOOCOMMERCE,
                event_id=d.delivery_id,
                refund_id=p.provider_id(refund, "id"),
                amount=PaymentShareRefund(refunded_minor=-value, paid_minor=paid, cumulative=False),
                currency=currency,
                occurred_at=when,
                order_id=order_id,
            )
        )
    return out
